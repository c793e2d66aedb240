import { existsSync } from 'node:fs';

/**
 * Relay's own NHS MESH mailbox: what it sends the `mesh` channel's messages from. Read only when
 * MESH_URL is set; then every part is required, because a partial set could only fail at the
 * first referral, when it is too late to find out.
 */
export interface MeshConfig {
  /** The MESH API's base URL, e.g. https://msg.intspineservices.nhs.uk (no trailing slash). */
  url: string;
  /** Relay's mailbox id (the `sender` of every message). */
  mailbox: string;
  password: string;
  /** The environment's shared key, which the Authorization header's HMAC is keyed with. */
  sharedKey: string;
  /** PEM files of Relay's client certificate and key (mutual TLS); required for an https:// URL. */
  clientCert: string | undefined;
  clientKey: string | undefined;
  /** PEM file of the CA that signed MESH's server certificate, when not one Node trusts already. */
  caFile: string | undefined;
}

type Env = Record<string, string | undefined>;

const NAMES = ['MESH_MAILBOX', 'MESH_PASSWORD', 'MESH_SHARED_KEY'] as const;

/** MESH_* settings, or undefined when MESH_URL is unset; problems are collected, not thrown. */
export function readMeshConfig(env: Env, production: boolean, problems: string[]): MeshConfig | undefined {
  const get = (name: string) => env[name]?.trim() || undefined;
  const raw = get('MESH_URL');
  if (!raw) {
    const stray = [...NAMES, 'MESH_CLIENT_CERT', 'MESH_CLIENT_KEY', 'MESH_CA_FILE'].filter(get);
    if (stray.length > 0) problems.push(`${stray.join(', ')} set without MESH_URL`);
    return undefined;
  }
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    problems.push('MESH_URL: must be an http(s) URL');
    return undefined;
  }
  if (production && url.protocol !== 'https:')
    problems.push('MESH_URL must be an https:// address when RELAY_ENV=production');
  for (const name of NAMES) if (!get(name)) problems.push(`${name} is required when MESH_URL is set`);
  const mailbox = get('MESH_MAILBOX') ?? '';
  if (mailbox && !/^[A-Z0-9]{1,20}$/.test(mailbox))
    problems.push('MESH_MAILBOX: must be a MESH mailbox id (capital letters and digits)');
  const clientCert = get('MESH_CLIENT_CERT');
  const clientKey = get('MESH_CLIENT_KEY');
  const caFile = get('MESH_CA_FILE');
  // MESH authenticates the connection by certificate as well as the header: https without one is refused.
  if (url.protocol === 'https:') {
    if (!clientCert) problems.push('MESH_CLIENT_CERT is required for an https:// MESH_URL');
    if (!clientKey) problems.push('MESH_CLIENT_KEY is required for an https:// MESH_URL');
  }
  const files: [string, string | undefined][] = [
    ['MESH_CLIENT_CERT', clientCert],
    ['MESH_CLIENT_KEY', clientKey],
    ['MESH_CA_FILE', caFile],
  ];
  for (const [name, path] of files)
    if (path && !existsSync(path)) problems.push(`${name}: no file at ${path}`);
  return {
    url: raw.replace(/\/+$/, ''),
    mailbox,
    password: get('MESH_PASSWORD') ?? '',
    sharedKey: get('MESH_SHARED_KEY') ?? '',
    clientCert,
    clientKey,
    caFile,
  };
}
