import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../canonical-json.ts';
import { DEV_AUDIT_KEY } from '../config.ts';
import { keyedFromSeal } from '../db/audit-keying.ts';
import { isPostgres } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { AuditLogTable } from '../db/tables/audit.table.ts';
import { insertRows } from '../db/insert-rows.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  /** `system`, `user:<id>`, `apikey:<id>`, `cli`: never a person's name or anything personal. */
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  /** Ids, states and reasons only: the audit log outlives personal-data retention. */
  detail?: Record<string, unknown>;
  /** When it happened, where that is not the `at` of the block it is appended with. */
  at?: Date;
}

type Row = Omit<AuditLogTable, 'hash'>;

// The key new entries are written with. One per process, like the database: createContext sets it
// from AUDIT_KEY, so the dozens of places that append inside their own transactions need not carry it.
let writeKey: Buffer = Buffer.from(DEV_AUDIT_KEY, 'utf8');

/** Sets the key for entries appended from now on (and the default key of verification). */
export function useAuditKey(key: Buffer): void {
  writeKey = key;
}

export function currentAuditKey(): Buffer {
  return writeKey;
}

/**
 * An entry's hash: HMAC-SHA256 under AUDIT_KEY, so that nobody without the key can rebuild the chain
 * after changing an entry. Entries written before keyed hashing began (no key given) were plain
 * SHA-256 of the same content, and are checked that way.
 */
export function hashEntry(row: Row, key?: Buffer): string {
  const content = JSON.stringify([
    row.seq,
    row.at,
    row.actor,
    row.action,
    row.entity_type,
    row.entity_id,
    row.detail,
    row.prev_hash,
  ]);
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(content).digest('hex');
}

/**
 * Appends one entry inside the caller's transaction. Bumping the head row first takes its row lock,
 * so concurrent appenders on PostgreSQL queue behind each other instead of forking the chain.
 */
export async function appendAudit(trx: Kysely<Database>, at: Date, entry: AuditEntry): Promise<number> {
  const [seq] = await appendAuditEntries(trx, at, [entry]);
  return seq as number;
}

/**
 * Appends several entries, in order, with one bump of the head and one INSERT: three statements
 * whatever the count (two on PostgreSQL), which keeps batched work (the dispatcher's claims and outcomes) off the
 * audit head's lock for as short a time as one entry would hold it.
 */
/**
 * The log rows for `entries`, linked to the head: `head.seq` is the head's sequence after it was
 * moved on by the entries' count (under its row lock), `head.hash` the hash before them. Returns
 * the rows and the head's new hash. For a writer that reserves the head in a statement of its own.
 */
export function chainEntries(
  head: { seq: number; hash: string },
  at: Date,
  entries: AuditEntry[],
): { rows: (Row & { hash: string })[]; hash: string } {
  let prevHash = head.hash;
  const rows = entries.map((entry, i) => {
    const row: Row = {
      seq: head.seq - entries.length + 1 + i,
      at: (entry.at ?? at).toISOString(),
      actor: entry.actor,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      detail: canonicalJson(entry.detail ?? {}),
      prev_hash: prevHash,
    };
    prevHash = hashEntry(row, writeKey);
    return { ...row, hash: prevHash };
  });
  return { rows, hash: prevHash };
}

export async function appendAuditEntries(
  trx: Kysely<Database>,
  at: Date,
  entries: AuditEntry[],
): Promise<number[]> {
  if (entries.length === 0) return [];
  const head = await trx
    .updateTable('audit_head')
    .set((eb) => ({ seq: eb('seq', '+', entries.length) }))
    .where('id', '=', 1)
    .returning(['seq', 'hash'])
    .executeTakeFirstOrThrow();
  const { rows, hash: prevHash } = chainEntries(head, at, entries);
  if (isPostgres(trx)) {
    // One round trip for both writes, under the head's row lock taken above.
    await trx
      .with('appended', (db) => db.insertInto('audit_log').values(rows).returning('seq'))
      .updateTable('audit_head')
      .set({ hash: prevHash })
      .where('id', '=', 1)
      .execute();
  } else {
    await insertRows(trx, 'audit_log', rows);
    await trx.updateTable('audit_head').set({ hash: prevHash }).where('id', '=', 1).execute();
  }
  return rows.map((r) => r.seq);
}

export type VerifyResult =
  | {
      ok: true;
      entries: number;
      headHash: string;
      /** Entries written before keyed hashing began (checked by plain SHA-256), when there are any. */
      unkeyed?: number;
    }
  | { ok: false; entries: number; brokenAt: number; problem: string };

export interface VerifyOptions {
  /** AUDIT_KEY; by default the key this process writes with. */
  key?: Buffer;
  /** A signed head kept outside the database: the chain must still contain it, unchanged. */
  anchor?: AuditAnchor;
  batchSize?: number;
}

/** Walks the whole chain in order and reports the first broken link. */
export async function verifyAuditChain(
  db: Kysely<Database>,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const { key = writeKey, anchor, batchSize = 1000 } = options;
  const keying = await db.selectFrom('audit_keying').selectAll().where('id', '=', 1).executeTakeFirst();
  if (!keying || !sameHex(keying.seal, keyedFromSeal(key, keying.keyed_from))) {
    const at = keying?.keyed_from ?? 1;
    return {
      ok: false,
      entries: at - 1,
      brokenAt: at,
      problem: `the record that keyed hashing began at entry ${at} is ${keying ? 'not sealed with this AUDIT_KEY' : 'missing'}: it was altered, or AUDIT_KEY is not the key this database was set up with`,
    };
  }
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of rows) {
      const problem =
        checkLink(row, expectedSeq, prevHash, row.seq >= keying.keyed_from ? key : undefined) ??
        checkAnchored(row, anchor);
      if (problem) return { ok: false, entries: expectedSeq - 1, brokenAt: expectedSeq, problem };
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < batchSize) break;
  }
  const head = await db.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirst();
  const entries = expectedSeq - 1;
  if (!head || head.seq !== entries || head.hash !== prevHash) {
    return {
      ok: false,
      entries,
      brokenAt: entries + 1,
      problem: `the chain ends at entry ${entries} but the recorded head is entry ${head?.seq ?? 'missing'}: entries were deleted from the end or the head was altered`,
    };
  }
  if (anchor && anchor.seq > entries) {
    return {
      ok: false,
      entries,
      brokenAt: entries + 1,
      problem: `the chain ends at entry ${entries} but the anchor of ${anchor.at} vouches for entry ${anchor.seq}: entries were deleted from the end and the head moved back`,
    };
  }
  const unkeyed = Math.min(entries, keying.keyed_from - 1);
  return { ok: true, entries, headHash: prevHash, ...(unkeyed > 0 ? { unkeyed } : {}) };
}

function checkLink(
  row: AuditLogTable,
  expectedSeq: number,
  prevHash: string,
  key: Buffer | undefined,
): string | undefined {
  if (row.seq !== expectedSeq) return `entry ${expectedSeq} is missing (next entry found is ${row.seq})`;
  if (row.prev_hash !== prevHash) return `entry ${row.seq} does not link to the entry before it`;
  if (hashEntry(row, key) !== row.hash) return `entry ${row.seq} was changed after it was written`;
  return undefined;
}

function checkAnchored(row: AuditLogTable, anchor: AuditAnchor | undefined): string | undefined {
  if (!anchor || row.seq !== anchor.seq || row.hash === anchor.hash) return undefined;
  return `entry ${row.seq} is not the entry the anchor of ${anchor.at} vouches for: the chain up to it was rewritten`;
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * A signed copy of the head, to keep outside the database (the daily summary mails one to the
 * auditors). One line, so it survives being pasted from an email:
 * `audit-anchor/1 <seq> <hash> <time> <signature>`. The signature (HMAC under AUDIT_KEY) shows the
 * anchor itself was not altered on the way.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  at: string;
  signature: string;
}

const ANCHOR_VERSION = 'audit-anchor/1';
const ANCHOR_SHAPE = /audit-anchor\/1 (\d+) ([0-9a-f]{64}) (\S+) ([0-9a-f]{64})/;

export class AnchorError extends Error {
  override name = 'AnchorError';
}

function anchorSignature(key: Buffer, seq: number, hash: string, at: string): string {
  return createHmac('sha256', key).update(`${ANCHOR_VERSION}|${seq}|${hash}|${at}`).digest('hex');
}

/** Signs the current head. */
export async function anchorHead(db: Kysely<Database>, key: Buffer, now: Date): Promise<AuditAnchor> {
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return signAnchor(key, head.seq, head.hash, now);
}

export function signAnchor(key: Buffer, seq: number, hash: string, now: Date): AuditAnchor {
  const at = now.toISOString();
  return { seq, hash, at, signature: anchorSignature(key, seq, hash, at) };
}

export function formatAnchor(anchor: AuditAnchor): string {
  return `${ANCHOR_VERSION} ${anchor.seq} ${anchor.hash} ${anchor.at} ${anchor.signature}`;
}

/** Finds an anchor in text (a file, an email line) and checks its signature. */
export function parseAnchor(text: string, key: Buffer): AuditAnchor {
  const found = ANCHOR_SHAPE.exec(text);
  if (!found)
    throw new AnchorError(
      `no audit anchor found (expected "${ANCHOR_VERSION} <seq> <hash> <time> <signature>")`,
    );
  const [, seq = '', hash = '', at = '', signature = ''] = found;
  const anchor = { seq: Number(seq), hash, at, signature };
  if (!sameHex(signature, anchorSignature(key, anchor.seq, hash, at))) {
    throw new AnchorError(
      "the audit anchor's signature does not match AUDIT_KEY: the anchor was altered, or signed with another key",
    );
  }
  return anchor;
}
