import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isRole, ROLES, type Role } from './roles.ts';

/** One OpenID Connect provider Relay signs people in with (NHS CIS2, Microsoft Entra ID, ...). */
export interface OidcProviderConfig {
  /** Its name in OIDC_PROVIDERS, lower case: in its sign-in and callback paths and in sessions. */
  name: string;
  issuer: string;
  clientId: string;
  /** client_secret_basic when set; otherwise clientKey signs a private_key_jwt assertion. */
  clientSecret: string | undefined;
  /** PEM of an RSA or P-256 EC private key, for private_key_jwt (which CIS2 requires). */
  clientKey: string | undefined;
  /** The `kid` of clientKey's public half as registered with the provider. */
  clientKeyId: string | undefined;
  scopes: string;
  /** The sign-in button's text. */
  label: string;
  /** `amr` values any one of which shows a second factor (compared without case). */
  mfaAmr: string[];
  /** `acr` values that show a second factor (compared without case). */
  mfaAcr: string[];
  /**
   * OIDC_<P>_ROLES_CLAIM and OIDC_<P>_ROLE_MAP: when set, the person's Relay roles come from this
   * claim at every sign-in, through the map (claim value → role); unset, roles stay Relay's.
   */
  roleMapping: RoleMapping | undefined;
}

export interface RoleMapping {
  /** The claim holding the person's groups or roles (e.g. `groups`, `roles`). */
  claim: string;
  /** Each claim value and the Relay role it gives; a value may appear more than once. */
  map: { value: string; role: Role }[];
}

export interface OidcConfig {
  providers: OidcProviderConfig[];
  /** OIDC_REQUIRE_MFA=on: safeguarding, admin and auditor sign-ins must show a second factor. */
  requireMfa: boolean;
}

type Env = Record<string, string | undefined>;

/** The unprefixed OIDC_* set is a single provider with this name. */
export const SINGLE_PROVIDER = 'oidc';
const DEFAULT_SCOPES = 'openid profile email';
// RFC 8176: `mfa` says so outright; a smartcard, hardware key or one-time code is a second factor.
const DEFAULT_MFA_AMR = ['mfa', 'sc', 'hwk', 'otp'];

/**
 * OIDC_PROVIDERS=cis2,entra reads OIDC_CIS2_ISSUER, OIDC_ENTRA_ISSUER, ...; without it, a set
 * OIDC_ISSUER is one provider read from the unprefixed variables. Problems are collected, not thrown.
 */
export function readOidcConfig(env: Env, production: boolean, problems: string[]): OidcConfig {
  const names = (env.OIDC_PROVIDERS ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const prefixes = names.length > 0 ? names.map((n) => `OIDC_${n.toUpperCase()}_`) : [];
  if (names.length === 0 && env.OIDC_ISSUER?.trim()) prefixes.push('OIDC_');
  const providers: OidcProviderConfig[] = [];
  for (const [i, prefix] of prefixes.entries()) {
    const name = names[i]?.toLowerCase() ?? SINGLE_PROVIDER;
    if (!/^[a-z0-9-]{1,32}$/.test(name)) {
      problems.push(`OIDC_PROVIDERS: "${name}" must be letters, digits or '-'`);
      continue;
    }
    const provider = readProvider(env, prefix, name, production, problems);
    if (provider) providers.push(provider);
  }
  const requireMfa = env.OIDC_REQUIRE_MFA?.trim();
  if (requireMfa && requireMfa !== 'on' && requireMfa !== 'off')
    problems.push('OIDC_REQUIRE_MFA: must be on or off');
  return { providers, requireMfa: requireMfa === 'on' };
}

function readProvider(
  env: Env,
  prefix: string,
  name: string,
  production: boolean,
  problems: string[],
): OidcProviderConfig | undefined {
  const value = (suffix: string) => env[`${prefix}${suffix}`]?.trim() || undefined;
  const issuer = value('ISSUER');
  const clientId = value('CLIENT_ID');
  const clientSecret = value('CLIENT_SECRET');
  const keySource = value('CLIENT_KEY');
  const before = problems.length;
  if (!issuer) problems.push(`${prefix}ISSUER is required`);
  else problems.push(...issuerProblems(`${prefix}ISSUER`, issuer, production));
  if (!clientId) problems.push(`${prefix}CLIENT_ID is required`);
  if (!clientSecret === !keySource)
    problems.push(`${prefix}CLIENT_SECRET or ${prefix}CLIENT_KEY is required (one, not both)`);
  const clientKey = keySource ? readClientKey(`${prefix}CLIENT_KEY`, keySource, problems) : undefined;
  if (problems.length > before || !issuer || !clientId) return undefined;
  return {
    name,
    issuer,
    clientId,
    clientSecret,
    clientKey,
    clientKeyId: value('CLIENT_KEY_ID'),
    scopes: value('SCOPES') ?? DEFAULT_SCOPES,
    label: value('LABEL') ?? `Sign in with ${name}`,
    mfaAmr: list(value('MFA_AMR')) ?? DEFAULT_MFA_AMR,
    mfaAcr: list(value('MFA_ACR')) ?? [],
    roleMapping: readRoleMapping(prefix, value('ROLES_CLAIM'), value('ROLE_MAP'), problems),
  };
}

/** `sg-leads=safeguarding,relay-admins=admin`: both settings or neither; every role a Relay role. */
function readRoleMapping(
  prefix: string,
  claim: string | undefined,
  raw: string | undefined,
  problems: string[],
): RoleMapping | undefined {
  if (!claim && !raw) return undefined;
  if (!claim || !raw) {
    problems.push(`${prefix}ROLES_CLAIM and ${prefix}ROLE_MAP go together: set both or neither`);
    return undefined;
  }
  const map: RoleMapping['map'] = [];
  for (const pair of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.lastIndexOf('=');
    const value = pair.slice(0, at).trim();
    const role = pair.slice(at + 1).trim();
    if (at <= 0 || !value || !isRole(role)) {
      problems.push(`${prefix}ROLE_MAP: each entry is claim-value=role, the role one of ${ROLES.join(', ')}`);
      return undefined;
    }
    map.push({ value, role });
  }
  return { claim, map };
}

function list(raw: string | undefined): string[] | undefined {
  return raw
    ?.split(',')
    .map((v) => v.trim().toLowerCase())
    .filter(Boolean);
}

/** Plain http is for a provider on loopback in development and tests, never production. */
function issuerProblems(name: string, issuer: string, production: boolean): string[] {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return [`${name}: must be the provider's issuer URL`];
  }
  if (url.protocol === 'https:') return [];
  if (url.protocol === 'http:' && !production) return [];
  return [`${name}: must be an https:// URL${production ? ' when RELAY_ENV=production' : ''}`];
}

/** The PEM itself, or the path of a file holding it; only RSA and P-256 keys sign a client assertion. */
function readClientKey(name: string, source: string, problems: string[]): string | undefined {
  try {
    const pem = source.startsWith('-----BEGIN') ? source.replace(/\\n/g, '\n') : readFileSync(source, 'utf8');
    const key = createPrivateKey(pem);
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== 'rsa' && !(key.asymmetricKeyType === 'ec' && curve === 'prime256v1'))
      throw new Error('must be an RSA or P-256 EC private key');
    return pem;
  } catch (e) {
    problems.push(
      `${name}: ${e instanceof Error && e.message.startsWith('must') ? e.message : 'must be a PEM private key or the path of one'}`,
    );
    return undefined;
  }
}
