import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/schema.ts';
import { appendAudit } from '../records/audit.ts';
import { endAllSessions } from './session.service.ts';
import type { RoleMapping } from '../config.oidc.ts';
import { ROLES, type Role } from '../roles.ts';
import { rowToUser, type User } from './user.service.ts';

/** Roles whose sign-ins must show a second factor when OIDC_REQUIRE_MFA=on. */
export const MFA_ROLES: readonly Role[] = ['safeguarding', 'admin', 'auditor'];

/** Who the provider says signed in, as far as linking needs it. */
export interface SignedInIdentity {
  provider: string;
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  /** The values of the provider's roles claim, when it maps them to Relay roles. */
  groups?: string[] | undefined;
}

export interface IdentityPolicy {
  /** OIDC_REQUIRE_MFA=on. */
  requireMfa: boolean;
  /** Whether this sign-in showed a second factor (amr/acr). */
  secondFactor: boolean;
  /** RELAY_SECRET: keys the hash that stands for an unknown person's subject in the audit log. */
  secret: string;
  /** The provider's claim-to-role map: when set, the claim decides the person's roles. */
  roleMapping?: RoleMapping | undefined;
}

type RefusalReason = 'unknown' | 'disabled' | 'mfa-required' | 'no-role';

export type IdentityResult =
  { kind: 'ok'; user: User; linked: boolean } | { kind: 'refused'; reason: RefusalReason };

/** The Relay roles a claim's values map to, in Relay's order of roles (none: no value maps). */
export function mappedRoles(mapping: RoleMapping, values: readonly string[]): Role[] {
  const held = new Set(mapping.map.filter((m) => values.includes(m.value)).map((m) => m.role));
  return ROLES.filter((role) => held.has(role));
}

type UserRow = Database['users'];

/**
 * Who signed in: the account linked to this issuer's subject; failing that, on a first sign-in, the
 * account whose email matches a verified email claim (and has no other subject at this issuer), which
 * is then linked, so that afterwards the subject alone identifies the person. Roles and teams stay
 * Relay's. Every outcome is audited; a refusal writes nothing else.
 */
export async function signInWithIdentity(
  db: Kysely<Database>,
  clock: Clock,
  identity: SignedInIdentity,
  policy: IdentityPolicy,
): Promise<IdentityResult> {
  const now = clock.now();
  return db.transaction().execute(async (trx) => {
    const linked = await trx
      .selectFrom('identity_links')
      .innerJoin('users', 'users.id', 'identity_links.user_id')
      .selectAll('users')
      .where('identity_links.issuer', '=', identity.issuer)
      .where('identity_links.subject', '=', identity.subject)
      .executeTakeFirst();
    const row = linked ?? (await linkableAccount(trx, identity));
    const refuse = async (reason: RefusalReason) => {
      await appendAudit(trx, now, {
        actor: `oidc:${identity.provider}`,
        action: 'user.sign-in-refused',
        entityType: row ? 'user' : 'identity',
        entityId: row ? row.id : subjectKey(policy.secret, identity),
        detail: { provider: identity.provider, reason },
      });
      return { kind: 'refused', reason } as const;
    };
    if (!row) return refuse('unknown');
    if (row.disabled_at) return refuse('disabled');
    const stored = rowToUser(row);
    const roles = policy.roleMapping && mappedRoles(policy.roleMapping, identity.groups ?? []);
    // A provider that decides roles and gives this person none: as good as unknown to Relay.
    if (roles?.length === 0) return refuse('no-role');
    const user = roles ? { ...stored, roles } : stored;
    if (policy.requireMfa && !policy.secondFactor && user.roles.some((r) => MFA_ROLES.includes(r)))
      return refuse('mfa-required');
    const actor = `user:${user.id}`;
    if (!linked) {
      await trx
        .insertInto('identity_links')
        .values({
          issuer: identity.issuer,
          subject: identity.subject,
          user_id: user.id,
          created_at: now.toISOString(),
        })
        .execute();
      await appendAudit(trx, now, {
        actor,
        action: 'user.identity-linked',
        entityType: 'user',
        entityId: user.id,
        detail: { provider: identity.provider, by: 'verified-email' },
      });
    }
    if (roles && roles.join() !== stored.roles.join())
      await setRolesFromClaim(trx, now, user.id, identity.provider, { from: stored.roles, to: roles });
    await appendAudit(trx, now, {
      actor,
      action: 'user.signed-in',
      entityType: 'user',
      entityId: user.id,
      detail: { provider: identity.provider, secondFactor: policy.secondFactor },
    });
    return { kind: 'ok', user, linked: !linked };
  });
}

/** The provider's claim changed the person's roles: stored, and audited with what they were. */
async function setRolesFromClaim(
  trx: Kysely<Database>,
  now: Date,
  userId: string,
  provider: string,
  roles: { from: Role[]; to: Role[] },
) {
  await trx
    .updateTable('users')
    .set({ roles: JSON.stringify(roles.to) })
    .where('id', '=', userId)
    .execute();
  await appendAudit(trx, now, {
    actor: `oidc:${provider}`,
    action: 'user.access-changed',
    entityType: 'user',
    entityId: userId,
    detail: { roles, by: 'roles-claim', provider },
  });
}

/** The account a first sign-in may link to: its email verified by the provider, not yet linked there. */
async function linkableAccount(
  trx: Kysely<Database>,
  identity: SignedInIdentity,
): Promise<UserRow | undefined> {
  if (!identity.email || !identity.emailVerified) return undefined;
  const row = await trx
    .selectFrom('users')
    .selectAll()
    .where('email', '=', identity.email)
    .executeTakeFirst();
  if (!row) return undefined;
  // Another subject at this issuer already speaks for the account: a second one is not the same person.
  const other = await trx
    .selectFrom('identity_links')
    .select('subject')
    .where('issuer', '=', identity.issuer)
    .where('user_id', '=', row.id)
    .executeTakeFirst();
  return other ? undefined : row;
}

/** An unknown person's subject, keyed and shortened: repeated attempts correlate, nobody is named. */
function subjectKey(secret: string, identity: SignedInIdentity): string {
  return createHmac('sha256', secret)
    .update(`${identity.issuer}\n${identity.subject}`)
    .digest('hex')
    .slice(0, 32);
}

/** An admin links a provider's subject to an account by hand (when no verified email does). */
export async function linkIdentity(
  db: Kysely<Database>,
  clock: Clock,
  link: { userId: string; issuer: string; subject: string; provider: string },
  actor: string,
): Promise<void> {
  const now = clock.now();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('identity_links')
      .values({
        issuer: link.issuer,
        subject: link.subject,
        user_id: link.userId,
        created_at: now.toISOString(),
      })
      .execute();
    await appendAudit(trx, now, {
      actor,
      action: 'user.identity-linked',
      entityType: 'user',
      entityId: link.userId,
      detail: { provider: link.provider, by: 'admin' },
    });
  });
}

/** Removes a person's links (at one issuer, or all) and ends every session of theirs at once. */
export async function unlinkIdentities(
  db: Kysely<Database>,
  clock: Clock,
  userId: string,
  actor: string,
  issuer?: string,
): Promise<number> {
  const now = clock.now();
  return db.transaction().execute(async (trx) => {
    let remove = trx.deleteFrom('identity_links').where('user_id', '=', userId);
    if (issuer) remove = remove.where('issuer', '=', issuer);
    const removed = Number((await remove.executeTakeFirst()).numDeletedRows);
    await endAllSessions(trx, userId);
    await appendAudit(trx, now, {
      actor,
      action: 'user.identity-unlinked',
      entityType: 'user',
      entityId: userId,
      detail: { links: removed },
    });
    return removed;
  });
}
