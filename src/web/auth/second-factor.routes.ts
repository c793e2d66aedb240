import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { csrfCheck } from '../../access/csrf.ts';
import {
  beginChallenge,
  CHALLENGE_WINDOW_MS,
  checkCode,
  endChallenge,
  enrolmentSecret,
  readChallenge,
  type Challenge,
  type CodeResult,
} from '../../access/second-factor.service.ts';
import { groupedSecret, totpUri } from '../../access/totp.ts';
import { startBrowserSession } from './session.cookie.ts';

/** Names the sign-in between a right password and its code; only that page ever sees it. */
const CHALLENGE_COOKIE = 'relay_second_factor';
const PATH = '/sign-in/second-factor';

/** What the person is told beside the code field, per failure. */
const CODE_ERRORS = {
  empty: 'Enter the security code',
  wrong: 'The code is not right. Enter the code your app shows now, or one of your recovery codes',
  replayed: 'That code has been used already. Wait for your app to show a new code and enter that',
} as const;

const throttledError = (seconds: number) => {
  const minutes = Math.ceil(seconds / 60);
  return `Too many wrong codes. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
};

function cookieOptions(ctx: RelayContext) {
  return {
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: ctx.config.baseUrl.startsWith('https:'),
    path: PATH,
  };
}

/**
 * After a right password, where a code must follow: no session yet, only a challenge that this
 * browser's cookie names, so not a single page is reachable until the code is right.
 */
export async function askForSecondFactor(
  ctx: RelayContext,
  reply: FastifyReply,
  userId: string,
  next: string,
): Promise<FastifyReply> {
  const token = await beginChallenge(ctx, userId, next);
  reply.setCookie(CHALLENGE_COOKIE, token, { ...cookieOptions(ctx), maxAge: CHALLENGE_WINDOW_MS / 1000 });
  return reply.redirect(PATH, 303);
}

async function codePage(
  ctx: RelayContext,
  reply: FastifyReply,
  challenge: Challenge,
  errors: Record<string, string> = {},
) {
  const failed = Object.keys(errors).length > 0;
  const common = {
    csrfToken: reply.generateCsrf(),
    email: challenge.email,
    errors,
    errorList: Object.entries(errors).map(([field, text]) => ({ text, href: `#${field}` })),
  };
  reply.header('cache-control', 'no-store');
  if (challenge.enrolled)
    return reply.page('auth/second-factor.njk', {
      pageTitle: `${failed ? 'Error: ' : ''}Enter your security code`,
      ...common,
    });
  const secret = await enrolmentSecret(ctx, challenge.userId);
  return reply.page('auth/second-factor-enrol.njk', {
    pageTitle: `${failed ? 'Error: ' : ''}Set up security codes`,
    ...common,
    groupedSecret: groupedSecret(secret),
    uri: totpUri(secret, challenge.email),
  });
}

export function registerSecondFactorRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const challengeOf = async (request: FastifyRequest) => {
    const token = request.cookies?.[CHALLENGE_COOKIE];
    return token ? { token, challenge: await readChallenge(ctx, token) } : undefined;
  };

  app.get(PATH, async (request, reply) => {
    const found = await challengeOf(request);
    if (!found?.challenge) return reply.redirect('/sign-in', 303);
    return codePage(ctx, reply, found.challenge);
  });

  // Limited like the password form, in a plugin registered after @fastify/rate-limit.
  void app.register(async (scope) => {
    scope.post<{ Body: { code?: string } }>(
      PATH,
      {
        preValidation: csrfCheck(app),
        config: { rateLimit: { max: ctx.config.signInRateLimit, timeWindow: '1 minute' } },
      },
      async (request, reply) => {
        const found = await challengeOf(request);
        if (!found?.challenge) return reply.redirect('/sign-in', 303);
        const { token, challenge } = found;
        const code = String(request.body?.code ?? '').trim();
        if (!code) return codePage(ctx, reply.code(422), challenge, { code: CODE_ERRORS.empty });
        const result = await checkCode(ctx, {
          userId: challenge.userId,
          email: challenge.email,
          code,
          client: request.ip,
        });
        if (result.kind !== 'ok') return refuseCode(ctx, reply, challenge, result);
        await endChallenge(ctx.db.kysely, token);
        reply.clearCookie(CHALLENGE_COOKIE, cookieOptions(ctx));
        await startBrowserSession(ctx, request, reply, challenge.userId);
        const next = challenge.mustChangePassword ? '/account/password' : challenge.next;
        if (!result.recoveryCodes) return reply.redirect(next, 303);
        return reply.header('cache-control', 'no-store').page('auth/recovery-codes.njk', {
          pageTitle: 'Keep your recovery codes',
          codes: result.recoveryCodes,
          next,
        });
      },
    );
  });
}

function refuseCode(
  ctx: RelayContext,
  reply: FastifyReply,
  challenge: Challenge,
  result: Exclude<CodeResult, { kind: 'ok' }>,
) {
  if (result.kind === 'throttled') {
    reply.header('retry-after', String(result.retryAfterSeconds));
    return codePage(ctx, reply.code(429), challenge, { code: throttledError(result.retryAfterSeconds) });
  }
  return codePage(ctx, reply.code(422), challenge, { code: CODE_ERRORS[result.reason] });
}
