import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { MeshConfig } from './config.mesh.ts';

/** Days before expiry from which `relay check` warns, time enough to order and install a new one. */
export const RENEW_WITHIN_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Relay's MESH client certificate as it stands: `ok`, `expiring` (within RENEW_WITHIN_DAYS),
 * `expired`, or `invalid` (a file that does not load, or a key that is not the certificate's).
 * MESH refuses the connection in the last two cases, and every referral to a MESH team fails.
 */
export interface MeshCertificateStatus {
  state: 'ok' | 'expiring' | 'expired' | 'invalid';
  /** When the certificate stops being valid (ISO 8601); absent when it did not load. */
  expiresAt?: string;
  daysLeft?: number;
  /** One plain sentence for an operator: file names and dates, never the files' contents. */
  detail: string;
}

function load<T>(what: string, read: () => T): T | string {
  try {
    return read();
  } catch (error) {
    const code = (error as { code?: string }).code;
    return `${what} does not load (${code ?? 'not PEM, or encrypted'})`;
  }
}

/** The client certificate's state at `now`; undefined when MESH is unset or uses no certificate. */
export function meshCertificateStatus(
  config: MeshConfig | undefined,
  now: Date,
): MeshCertificateStatus | undefined {
  if (!config?.clientCert || !config.clientKey) return undefined;
  const { clientCert, clientKey } = config;
  const cert = load(`MESH_CLIENT_CERT ${clientCert}`, () => new X509Certificate(readFileSync(clientCert)));
  if (typeof cert === 'string') return { state: 'invalid', detail: cert };
  const key = load(`MESH_CLIENT_KEY ${clientKey}`, () => createPrivateKey(readFileSync(clientKey)));
  if (typeof key === 'string') return { state: 'invalid', detail: key };
  const expiresAt = new Date(cert.validTo).toISOString();
  if (!cert.checkPrivateKey(key))
    return {
      state: 'invalid',
      expiresAt,
      detail: `MESH_CLIENT_KEY ${clientKey} is not the key of MESH_CLIENT_CERT ${clientCert}`,
    };
  const daysLeft = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY_MS);
  if (daysLeft < 0)
    return {
      state: 'expired',
      expiresAt,
      daysLeft,
      detail: `MESH client certificate expired on ${expiresAt}`,
    };
  const state = daysLeft < RENEW_WITHIN_DAYS ? 'expiring' : 'ok';
  const detail = `MESH client certificate expires on ${expiresAt} (in ${daysLeft} days)`;
  return { state, expiresAt, daysLeft, detail };
}
