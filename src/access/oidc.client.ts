import { createPrivateKey, createPublicKey, webcrypto, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';
import type { OidcProviderConfig } from '../config.oidc.ts';

/** What Relay learns from a provider about the person who signed in, once the ID token checks out. */
export interface ProviderIdentity {
  provider: string;
  issuer: string;
  subject: string;
  email: string | undefined;
  /** Only a provider-verified email may link a first sign-in to an account. */
  emailVerified: boolean;
  amr: string[];
  acr: string | undefined;
  /** The values of the provider's roles claim (OIDC_<P>_ROLES_CLAIM), when one is configured. */
  groups: string[] | undefined;
  idToken: string;
}

/** A sign-in in flight: the values the callback must see again. */
export interface SignInStart {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

// Discovery once per provider (per configuration object); a failure is forgotten so the next try retries.
const configurations = new WeakMap<OidcProviderConfig, Promise<oidc.Configuration>>();

function configurationFor(provider: OidcProviderConfig): Promise<oidc.Configuration> {
  let pending = configurations.get(provider);
  if (!pending) {
    pending = discover(provider);
    pending.catch(() => configurations.delete(provider));
    configurations.set(provider, pending);
  }
  return pending;
}

async function discover(provider: OidcProviderConfig): Promise<oidc.Configuration> {
  const issuer = new URL(provider.issuer);
  // Configuration refuses http outside production; this allows a provider on loopback in tests.
  const execute = issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
  const config = await oidc.discovery(issuer, provider.clientId, undefined, await clientAuth(provider), {
    execute,
    timeout: 10,
  });
  // The token endpoint's TLS would let the ID token go unverified; Relay checks its signature anyway.
  oidc.enableNonRepudiationChecks(config);
  return config;
}

async function clientAuth(provider: OidcProviderConfig): Promise<oidc.ClientAuth> {
  if (provider.clientSecret) return oidc.ClientSecretBasic(provider.clientSecret);
  const key = createPrivateKey(provider.clientKey!);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const cryptoKey = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return oidc.PrivateKeyJwt({
    key: cryptoKey,
    ...(provider.clientKeyId ? { kid: provider.clientKeyId } : {}),
  });
}

/** The authorization request: code flow with PKCE (S256), a fresh state and nonce. */
export async function startSignIn(provider: OidcProviderConfig, redirectUri: string): Promise<SignInStart> {
  const config = await configurationFor(provider);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: provider.scopes,
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, state, nonce, codeVerifier };
}

/**
 * Checks the provider's answer (state, then the code exchanged with the PKCE verifier, then the ID
 * token: signature against the issuer's keys, issuer, audience, expiry, nonce) and reads who it is.
 * Email claims missing from the ID token (CIS2 gives them at userinfo) are fetched for that subject.
 */
export async function finishSignIn(
  provider: OidcProviderConfig,
  callbackUrl: URL,
  expected: { state: string; nonce: string; codeVerifier: string },
): Promise<ProviderIdentity> {
  const config = await configurationFor(provider);
  const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
    expectedState: expected.state,
    expectedNonce: expected.nonce,
    pkceCodeVerifier: expected.codeVerifier,
    idTokenExpected: true,
  });
  const claims = tokens.claims()!;
  let { email, email_verified, xms_edov } = claims;
  const rolesClaim = provider.roleMapping?.claim;
  let groups = rolesClaim === undefined ? undefined : claims[rolesClaim];
  const missing = email === undefined || (rolesClaim !== undefined && groups === undefined);
  if (missing && config.serverMetadata().userinfo_endpoint) {
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    if (email === undefined) ({ email, email_verified, xms_edov } = info);
    if (rolesClaim !== undefined && groups === undefined) groups = info[rolesClaim];
  }
  return {
    provider: provider.name,
    issuer: claims.iss,
    subject: claims.sub,
    email: typeof email === 'string' ? email.trim().toLowerCase() : undefined,
    // Entra ID sends no email_verified; its xms_edov says the email's domain is the tenant's own.
    emailVerified: email_verified === true || xms_edov === true,
    amr: Array.isArray(claims.amr) ? claims.amr.map(String) : [],
    acr: typeof claims.acr === 'string' ? claims.acr : undefined,
    groups: rolesClaim === undefined ? undefined : claimValues(groups),
    idToken: tokens.id_token!,
  };
}

/** A groups or roles claim as a list: an array of values, or one value (absent: none). */
function claimValues(claim: unknown): string[] {
  if (Array.isArray(claim))
    return claim.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
  return typeof claim === 'string' ? [claim] : [];
}

/** Whether the ID token shows a second factor, by the provider's configured `amr`/`acr` values. */
export function showsSecondFactor(provider: OidcProviderConfig, identity: ProviderIdentity): boolean {
  const amr = identity.amr.map((v) => v.toLowerCase());
  if (amr.some((v) => provider.mfaAmr.includes(v))) return true;
  return identity.acr !== undefined && provider.mfaAcr.includes(identity.acr.toLowerCase());
}

/**
 * RP-initiated logout: where to send the browser so the provider ends its session too, or
 * undefined when the provider offers no end_session_endpoint (or cannot be reached).
 */
export async function endSessionUrl(
  provider: OidcProviderConfig,
  idToken: string | null,
  postLogoutRedirectUri: string,
): Promise<URL | undefined> {
  try {
    const config = await configurationFor(provider);
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(config, {
      post_logout_redirect_uri: postLogoutRedirectUri,
      ...(idToken ? { id_token_hint: idToken } : { client_id: provider.clientId }),
    });
  } catch {
    return undefined;
  }
}

/** A short, personal-data-free name for why a sign-in failed, for the audit entry. */
export function failureCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code.slice(0, 64);
  return error instanceof Error ? error.name.slice(0, 64) : 'unknown';
}

/**
 * The public halves of the private_key_jwt keys, as a JWKS the providers can fetch (CIS2 and Entra
 * ID take a JWKS URL or the key itself): never the private key.
 */
export function clientJwks(providers: readonly OidcProviderConfig[]): { keys: JsonWebKey[] } {
  const keys = new Map<string, JsonWebKey>();
  for (const provider of providers) {
    if (!provider.clientKey) continue;
    const jwk = createPublicKey(provider.clientKey).export({ format: 'jwk' });
    const alg = jwk.kty === 'RSA' ? 'RS256' : 'ES256';
    const entry = { ...jwk, use: 'sig', alg, ...(provider.clientKeyId ? { kid: provider.clientKeyId } : {}) };
    keys.set(JSON.stringify(entry), entry);
  }
  return { keys: [...keys.values()] };
}
