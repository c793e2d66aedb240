import type { Kysely } from 'kysely';

/**
 * Sign-in with the organisation's identity provider (OpenID Connect). identity_links ties a
 * provider's subject (`sub`, unique per issuer) to a Relay account: after the first sign-in the
 * subject alone identifies the person. oidc_sign_ins holds each sign-in in flight (state, nonce,
 * PKCE verifier) for ten minutes; the callback consumes its row, so a state is good once. Sessions
 * remember which provider signed them in, and its ID token, for RP-initiated logout.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('identity_links')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('identity_links_pk', ['issuer', 'subject'])
    .execute();
  await db.schema.createIndex('identity_links_user').on('identity_links').column('user_id').execute();
  await db.schema
    .createTable('oidc_sign_ins')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('next', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('sessions').addColumn('provider', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('id_token', 'text').execute();
}
