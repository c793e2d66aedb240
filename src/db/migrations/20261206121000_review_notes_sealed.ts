import { createCipheriv, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Dialect } from '../database.ts';
import type { MigrationSecrets } from '../migrate.ts';

/**
 * Incident-review notes join the personal fields: the notes already written are encrypted under the
 * newest RELAY_DATA_KEYS key, and `purged_at` marks a note emptied by retention. The encryption is
 * written out here, frozen as `enc1` was when this migration was made (field-crypto.ts), so a later
 * change there cannot change what this migration does.
 */
export async function up(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
  db: Kysely<any>,
  _dialect: Dialect,
  secrets: MigrationSecrets,
): Promise<void> {
  await db.schema.alterTable('review_notes').addColumn('purged_at', 'text').execute();
  const key = secrets.dataKeys.at(-1);
  if (!key) throw new Error('No data key is configured (RELAY_DATA_KEYS)');
  const notes: { id: number; text: string }[] = await db
    .selectFrom('review_notes')
    .select(['id', 'text'])
    .execute();
  for (const note of notes) {
    if (note.text.startsWith('enc1:')) continue;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.key, iv);
    cipher.setAAD(Buffer.from(`review_notes.text:${note.id}`, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(note.text, 'utf8'), cipher.final()]);
    const sealed = [
      'enc1',
      key.id,
      ...[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url')),
    ].join(':');
    await db.updateTable('review_notes').set({ text: sealed }).where('id', '=', note.id).execute();
  }
}
