import { createPrivateKey, generateKeyPairSync, randomBytes, sign, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
// oidc-provider ships no types; the few members used here are typed below.
// @ts-expect-error -- untyped module
import Provider from 'oidc-provider';

/** A person the test provider knows, as its claims say. */
export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  /** Entra ID's 'the email's domain is the tenant's own'. */
  xms_edov?: boolean;
  name?: string;
  /** The organisation's groups (Entra ID's `groups`), released with the `groups` scope. */
  groups?: string[];
}

/** How the next person signs in at the provider: who, and with which factors. */
export interface TestLogin {
  accountId: string;
  amr?: string[];
  acr?: string;
}

export interface TestClient {
  clientId: string;
  /** client_secret_basic with this secret, or private_key_jwt with this public JWK. */
  secret?: string;
  publicJwk?: JsonWebKey;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

/** Rewrites the next ID token the token endpoint returns (claims, or the key it is signed with). */
export type IdTokenTamper = (claims: Record<string, unknown>) => {
  claims: Record<string, unknown>;
  signWith?: 'provider' | 'stranger';
};

export interface TestProvider {
  issuer: string;
  accounts: Map<string, TestAccount>;
  /** Who signs in at the next interaction. */
  login: TestLogin;
  tamperNextIdToken(tamper: IdTokenTamper): void;
  close(): Promise<void>;
}

interface InteractionDetails {
  params: { client_id: string; scope: string };
}

interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: unknown,
    options: unknown,
  ): Promise<void>;
  Grant: new (init: { accountId: string; clientId: string }) => {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  };
}

const KID = 'test-provider-key';

/** A key pair as JWKs, for a client's private_key_jwt or the provider's own signing key. */
export function rsaJwkPair(kid: string): { privateJwk: JsonWebKey; publicJwk: JsonWebKey; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' },
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function signJwt(header: Record<string, unknown>, claims: Record<string, unknown>, jwk: JsonWebKey): string {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(input), createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * A real OpenID provider (oidc-provider) on loopback. Its interaction (the login and consent pages a
 * person would see) finishes at once as `login` says, so a test chooses who signs in and how.
 */
export async function startTestProvider(clients: TestClient[]): Promise<TestProvider> {
  const signing = rsaJwkPair(KID);
  const stranger = rsaJwkPair(KID);
  const accounts = new Map<string, TestAccount>();
  let tamper: IdTokenTamper | undefined;
  const state: { provider?: OidcProvider; login: TestLogin } = { login: { accountId: 'nobody' } };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.clientId,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...(c.secret
        ? { client_secret: c.secret, token_endpoint_auth_method: 'client_secret_basic' }
        : {
            token_endpoint_auth_method: 'private_key_jwt',
            token_endpoint_auth_signing_alg: 'RS256',
            jwks: { keys: [c.publicJwk] },
          }),
    })),
    jwks: { keys: [signing.privateJwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      iss: null,
      sid: null,
      // As Entra ID and CIS2 do, the ID token always says how the person signed in.
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified', 'xms_edov'],
      profile: ['name'],
      groups: ['groups'],
    },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      return account && { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: { body: string }, form: string) => {
          ctx.body = `<!DOCTYPE html><html lang="en"><head><title>Sign out</title></head><body><main>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button></main></body></html>`;
        },
      },
    },
  }) as OidcProvider;
  state.provider = provider;
  const callback = provider.callback();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      if (req.url?.startsWith('/interaction/')) return await finishInteraction(req, res);
      if (req.url?.startsWith('/token') && tamper) {
        rewriteIdToken(res, tamper);
        tamper = undefined;
      }
      callback(req, res);
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  }

  async function finishInteraction(req: IncomingMessage, res: ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    const { accountId, amr, acr } = state.login;
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, ...(amr ? { amr } : {}), ...(acr ? { acr } : {}) }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  /** Re-signs the token response's ID token after the tamper has changed it. */
  function rewriteIdToken(res: ServerResponse, change: IdTokenTamper) {
    const end = res.end.bind(res) as (body?: unknown) => ServerResponse;
    res.end = ((body?: unknown) => {
      const json = JSON.parse(String(body)) as { id_token?: string };
      if (json.id_token) {
        const [header, payload] = json.id_token.split('.');
        const decode = (part: string | undefined) =>
          JSON.parse(Buffer.from(part ?? '', 'base64url').toString()) as Record<string, unknown>;
        const changed = change(decode(payload));
        const key = changed.signWith === 'stranger' ? stranger.privateJwk : signing.privateJwk;
        json.id_token = signJwt(decode(header), changed.claims, key);
      }
      const rewritten = JSON.stringify(json);
      res.setHeader('content-length', Buffer.byteLength(rewritten));
      return end(rewritten);
    }) as typeof res.end;
  }

  return {
    issuer,
    accounts,
    get login() {
      return state.login;
    },
    set login(login: TestLogin) {
      state.login = login;
    },
    tamperNextIdToken(change) {
      tamper = change;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
