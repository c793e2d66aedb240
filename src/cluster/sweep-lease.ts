import { performance } from 'node:perf_hooks';
import {
  sql,
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type RawBuilder,
} from 'kysely';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { databaseNowMs, nowMsSql } from '../db/server-time.ts';

const NAME = 'sweep';
/**
 * The share of the lease this node trusts on its own clock between renewals. Its clock cannot read
 * the server's, so it stops short of the expiry rather than risk writing after it.
 */
const TRUSTED_SHARE = 0.9;

/** Thrown when this node finds it no longer holds the sweep lease: it stops before writing more. */
export class LeaseLost extends Error {
  constructor() {
    super('this node no longer holds the sweep lease');
    this.name = 'LeaseLost';
  }
}

export interface LeaseHolder {
  holder: string;
  expiresMs: number;
  /** Now by the clock the expiry is measured on. */
  nowMs: number;
}

/**
 * Leadership of the watchdog's sweep: a row (holder, expiry) that a node takes when it is free or
 * expired and renews while it sweeps, each by one conditional statement. On PostgreSQL the expiry
 * is measured on the database server's clock, so nodes' clocks need not agree. A node that is
 * frozen (SIGSTOP, a long GC pause) or cut off cannot renew, so it loses the lease within its
 * time-to-live and another node takes over. When it wakes it finds out before it writes more:
 * every write of the sweep first renews the lease in its own transaction (and holds the row until
 * it commits), and every query of the sweep and its jobs is refused once the node's own clock says
 * the lease may have run out.
 */
export class SweepLease {
  /** When (by `elapsed`) the last renewal that committed was sent; -Infinity when never. */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private readonly elapsed: () => number;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly node: string,
    readonly ttlMs: number,
  ) {
    // On PostgreSQL the expiry runs on the server's clock; the steadiest stand-in here is the
    // monotonic clock, which keeps running while the process is stopped. SQLite's runs on Relay's.
    this.elapsed = db.dialect === 'postgres' ? () => performance.now() : () => clock.now().getTime();
  }

  /** Takes the lease if it is free or expired, or renews it if this node holds it; says whether it does. */
  async acquire(): Promise<boolean> {
    const db = this.db.kysely;
    const sent = this.elapsed();
    const now = nowMsSql(db, this.clock);
    const row = await db
      .insertInto('leases')
      .values({ name: NAME, holder: this.node, expires_ms: sqlPlus(now, this.ttlMs), acquired_ms: now })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_ms: eb.ref('excluded.expires_ms'),
            acquired_ms: eb
              .case()
              .when('leases.holder', '=', eb.ref('excluded.holder'))
              .then(eb.ref('leases.acquired_ms'))
              .else(eb.ref('excluded.acquired_ms'))
              .end(),
          }))
          .where((eb) =>
            eb.or([
              eb('leases.holder', '=', eb.ref('excluded.holder')),
              eb('leases.expires_ms', '<=', eb.ref('excluded.acquired_ms')),
            ]),
          ),
      )
      .returning('holder')
      .executeTakeFirst();
    if (row) this.renewedAt = sent;
    else this.renewedAt = Number.NEGATIVE_INFINITY;
    return row !== undefined;
  }

  /** Whether this node's own clock still vouches for the lease since its last renewal. */
  heldLocally(): boolean {
    return this.elapsed() - this.renewedAt < this.ttlMs * TRUSTED_SHARE;
  }

  /**
   * Runs `work` in a transaction that first renews the lease, so it commits only while this node
   * holds it; throws LeaseLost (and writes nothing) when another node has it or it has expired.
   */
  async write<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    const sent = this.elapsed();
    const result = await this.db.kysely.transaction().execute(async (trx) => {
      const now = nowMsSql(trx, this.clock);
      const renewed = await trx
        .updateTable('leases')
        .set({ expires_ms: sqlPlus(now, this.ttlMs) })
        .where('name', '=', NAME)
        .where('holder', '=', this.node)
        .where('expires_ms', '>', now)
        .executeTakeFirst();
      if (renewed.numUpdatedRows === 0n) throw new LeaseLost();
      return work(trx);
    });
    this.renewedAt = sent;
    return result;
  }

  /** The same database, refusing every query once the lease may have run out (see heldLocally). */
  guard(db: Kysely<Database>): Kysely<Database> {
    return db.withPlugin(new LeaseGuardPlugin(this));
  }

  /** Gives the lease up (on a clean stop), so another node takes over at its next tick. */
  async release(): Promise<void> {
    this.renewedAt = Number.NEGATIVE_INFINITY;
    await this.db.kysely
      .updateTable('leases')
      .set({ expires_ms: 0 })
      .where('name', '=', NAME)
      .where('holder', '=', this.node)
      .execute();
  }
}

/** Who holds the sweep lease and until when, for tests, readiness and operators. */
export async function sweepLeaseHolder(db: Kysely<Database>, clock: Clock): Promise<LeaseHolder | undefined> {
  const [row, nowMs] = await Promise.all([
    db.selectFrom('leases').select(['holder', 'expires_ms']).where('name', '=', NAME).executeTakeFirst(),
    databaseNowMs(db, clock),
  ]);
  return row ? { holder: row.holder, expiresMs: Number(row.expires_ms), nowMs } : undefined;
}

function sqlPlus(now: RawBuilder<number>, ms: number): RawBuilder<number> {
  return sql<number>`${now} + ${ms}`;
}

class LeaseGuardPlugin implements KyselyPlugin {
  constructor(private readonly lease: SweepLease) {}

  transformQuery(args: PluginTransformQueryArgs) {
    if (!this.lease.heldLocally()) throw new LeaseLost();
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs) {
    return args.result;
  }
}
