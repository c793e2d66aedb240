import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OidcProviderConfig } from '../../config.oidc.ts';
import type { RelayContext } from '../../context.ts';
import { appendAudit } from '../../records/audit.ts';
import { signInWithIdentity, type IdentityResult } from '../../access/identity.service.ts';
import {
  clientJwks,
  endSessionUrl,
  failureCode,
  finishSignIn,
  showsSecondFactor,
  startSignIn,
} from '../../access/oidc.client.ts';
import { savePendingSignIn, SIGN_IN_WINDOW_MS, takePendingSignIn } from '../../access/oidc-sign-in.store.ts';
import type { EndedSession } from '../../access/session.service.ts';
import type { User } from '../../access/user.service.ts';
import { startBrowserSession } from './session.cookie.ts';
import { safeNext } from './auth.routes.ts';

/** Binds a sign-in to the browser that began it: a callback arriving without it is someone else's. */
const STATE_COOKIE = 'relay_oidc_state';
const STATE_PATH = '/sign-in/oidc';

type Refusal = Extract<IdentityResult, { kind: 'refused' }>['reason'] | 'failed' | 'unreachable';

/** What the person is told, per refusal; never why a token failed in detail (that is in the audit). */
const REFUSALS: Record<Refusal, { status: number; heading: string; body: string }> = {
  unknown: {
    status: 403,
    heading: 'You do not have access to Relay yet',
    body: 'Your organisation signed you in, but no Relay account is set up for you. Ask your Relay administrator for access.',
  },
  // The organisation manages access centrally, and none of its groups gives a Relay role.
  'no-role': {
    status: 403,
    heading: 'You do not have access to Relay yet',
    body: 'Your organisation signed you in, but has not given you access to Relay. Ask your Relay administrator for access.',
  },
  disabled: {
    status: 403,
    heading: 'Your Relay account is not active',
    body: 'Your account has been closed or suspended. If you still need access, ask your Relay administrator.',
  },
  'mfa-required': {
    status: 403,
    heading: 'Sign in with a second factor',
    body: 'Your role needs a sign-in that used a second factor (a smartcard, security key or authenticator app). Sign in again using one.',
  },
  failed: {
    status: 400,
    heading: 'We could not sign you in',
    body: 'The sign-in could not be checked: it may have taken too long, been used already, or not come from your organisation. Nothing has been changed. Try signing in again.',
  },
  unreachable: {
    status: 503,
    heading: 'Your organisation’s sign-in service cannot be reached',
    body: 'Relay could not reach the sign-in service. Try again in a few minutes; if it keeps happening, tell your Relay administrator.',
  },
};

const callbackPath = (provider: OidcProviderConfig) => `${STATE_PATH}/${provider.name}/callback`;

function refusalPage(reply: FastifyReply, reason: Refusal) {
  const refusal = REFUSALS[reason];
  return reply
    .code(refusal.status)
    .page('auth/sign-in-refused.njk', { pageTitle: refusal.heading, ...refusal });
}

/** A failed sign-in, audited without personal data: which provider, and a code for what failed. */
async function auditFailure(ctx: RelayContext, provider: string, reason: string) {
  await ctx.db.kysely.transaction().execute((trx) =>
    appendAudit(trx, ctx.clock.now(), {
      actor: `oidc:${provider}`,
      action: 'user.sign-in-failed',
      entityType: 'identity-provider',
      entityId: provider,
      detail: { reason },
    }),
  );
}

export function registerOidcRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const { baseUrl } = ctx.config;
  const providers = new Map(ctx.config.oidc.providers.map((p) => [p.name, p]));
  const cookieOptions = {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: baseUrl.startsWith('https:'),
    path: STATE_PATH,
  };

  const jwks = clientJwks(ctx.config.oidc.providers);
  app.get('/oidc/jwks.json', async (_request, reply) =>
    reply.header('cache-control', 'max-age=300').send(jwks),
  );

  // Each start writes a row: limited like the password form, in a plugin registered after
  // @fastify/rate-limit so that its onRoute hook sees the route.
  void app.register(async (scope) => {
    scope.get<{ Params: { provider: string }; Querystring: { next?: string } }>(
      `${STATE_PATH}/:provider`,
      { config: { rateLimit: { max: ctx.config.signInRateLimit, timeWindow: '1 minute' } } },
      async (request, reply) => {
        const provider = providers.get(request.params.provider);
        if (!provider) return reply.callNotFound();
        const start = await startSignIn(provider, baseUrl + callbackPath(provider)).catch(() => undefined);
        if (!start) {
          await auditFailure(ctx, provider.name, 'provider-unreachable');
          return refusalPage(reply, 'unreachable');
        }
        const next = safeNext(request.query.next, baseUrl);
        await savePendingSignIn(ctx.db.kysely, ctx.clock, { provider: provider.name, next, ...start });
        reply.setCookie(STATE_COOKIE, start.state, { ...cookieOptions, maxAge: SIGN_IN_WINDOW_MS / 1000 });
        return reply.redirect(start.url.href, 303);
      },
    );
  });

  app.get<{ Params: { provider: string }; Querystring: { state?: string } }>(
    `${STATE_PATH}/:provider/callback`,
    async (request, reply) => {
      const provider = providers.get(request.params.provider);
      if (!provider) return reply.callNotFound();
      reply.clearCookie(STATE_COOKIE, cookieOptions);
      const state = request.query.state;
      const pending =
        state && request.cookies[STATE_COOKIE] === state
          ? await takePendingSignIn(ctx.db.kysely, ctx.clock, provider.name, state)
          : undefined;
      if (!pending) {
        await auditFailure(ctx, provider.name, 'state');
        return refusalPage(reply, 'failed');
      }
      return finish(ctx, request, reply, provider, pending);
    },
  );
}

async function finish(
  ctx: RelayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  provider: OidcProviderConfig,
  pending: { state: string; nonce: string; codeVerifier: string; next: string },
) {
  let identity;
  try {
    identity = await finishSignIn(provider, new URL(request.url, ctx.config.baseUrl), pending);
  } catch (error) {
    await auditFailure(ctx, provider.name, failureCode(error));
    return refusalPage(reply, 'failed');
  }
  const result = await signInWithIdentity(ctx.db.kysely, ctx.clock, identity, {
    requireMfa: ctx.config.oidc.requireMfa,
    secondFactor: showsSecondFactor(provider, identity),
    secret: ctx.config.secret,
    roleMapping: provider.roleMapping,
  });
  if (result.kind === 'refused') return refusalPage(reply, result.reason);
  await startBrowserSession(ctx, request, reply, result.user.id, {
    provider: provider.name,
    idToken: identity.idToken,
  });
  return reply.redirect(result.user.mustChangePassword ? '/account/password' : pending.next, 303);
}

/**
 * Where signing out leads: to the provider's end-session endpoint (RP-initiated logout) when the
 * session came from a provider that offers one, which returns the browser to the sign-in page;
 * otherwise straight to the sign-in page. Audited either way.
 */
export async function signOutUrl(
  ctx: RelayContext,
  user: User | undefined,
  ended: EndedSession | undefined,
): Promise<string> {
  const provider = ended?.provider
    ? ctx.config.oidc.providers.find((p) => p.name === ended.provider)
    : undefined;
  if (user) {
    await ctx.db.kysely.transaction().execute((trx) =>
      appendAudit(trx, ctx.clock.now(), {
        actor: `user:${user.id}`,
        action: 'user.signed-out',
        entityType: 'user',
        entityId: user.id,
        detail: provider ? { provider: provider.name } : {},
      }),
    );
  }
  const signInPage = `${ctx.config.baseUrl}/sign-in`;
  const there = provider && (await endSessionUrl(provider, ended?.idToken ?? null, signInPage));
  return there ? there.href : '/sign-in';
}
