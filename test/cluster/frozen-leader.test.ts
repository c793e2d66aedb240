import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventually, freePort, runRelay, startRelay, type RelayProcess } from '../helpers/process.ts';
import { streamReferral } from './referral-stream.ts';

const INTERVAL_MS = 2000;
/** Each referral's send-by deadline: it passes while the sweeping node is frozen. */
const SEND_BY_MS = 2 * INTERVAL_MS;
const FREEZES = 3;
/** Longer than the lease's two intervals, so the frozen node loses it every time. */
const FREEZE_MS = 3 * INTERVAL_MS;
/** The promise under test: an escalation opens within three intervals of its deadline. */
const BOUND_MS = 3 * INTERVAL_MS;

const SKIP = process.env.TEST_DATABASE_URL
  ? false
  : 'needs PostgreSQL: set TEST_DATABASE_URL (CI does) to run the frozen-leader test';

interface Escalated {
  referral_id: string | null;
  team_id: string | null;
  reason: string;
  opened_at: string;
  send_by: string;
}

describe(
  'three nodes on PostgreSQL, the sweeping node frozen with SIGSTOP again and again',
  { skip: SKIP },
  () => {
    let database: TestDatabase;
    let env: Record<string, string>;
    const nodes: RelayProcess[] = [];
    const ports = new Map<RelayProcess, number>();
    let key: string;
    let submitted = 0;

    before(async () => {
      database = await createTestDatabase('postgres');
      env = {
        DATABASE_URL: database.url,
        PGOPTIONS: `-c search_path=${database.pgSchema}`,
        // Nothing listens here: every send fails for now and is retried, so deliveries stay unsent.
        SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
        WATCHDOG_INTERVAL_MS: String(INTERVAL_MS),
        SEND_BY: `${SEND_BY_MS / 1000}s`,
        TEST_ALERT_INTERVAL: 'off',
      };
      assert.equal(runRelay(['directory', 'import', '--demo'], env).status, 0);
      const created = runRelay(
        ['apikey', 'create', '--name', 'frozen', '--scope', 'referrals:write', '--system', 'cluster-epcr'],
        env,
      );
      assert.equal(created.status, 0, created.stderr);
      key = created.stdout.trim();
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const node = startRelay({ ...env, PORT: String(port) });
        nodes.push(node);
        ports.set(node, port);
      }
      await Promise.all(nodes.map((node) => node.waitForOutput(/is running/, 60_000)));
    });
    after(async () => {
      for (const node of nodes) {
        node.child.kill('SIGCONT');
        node.child.kill('SIGKILL');
      }
      await database?.drop();
    });

    /** The node whose watchdog holds an unexpired sweep lease now. */
    async function leader(): Promise<RelayProcess | undefined> {
      const row = await database.db.kysely
        .selectFrom('leases')
        .select(['holder', 'expires_ms'])
        .where('name', '=', 'sweep')
        .executeTakeFirst();
      if (!row || Number(row.expires_ms) <= Date.now()) return undefined;
      return nodes.find((node) => row.holder.startsWith(`${node.child.pid}-`));
    }

    async function submit(node: RelayProcess): Promise<void> {
      const response = await fetch(`http://127.0.0.1:${ports.get(node)}/api/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(streamReferral(submitted++)),
      });
      assert.equal(response.status, 201, await response.text());
    }

    /** Freezes the sweeping node while referrals' deadlines pass, then wakes it. */
    async function freezeLeader(): Promise<void> {
      let frozen: RelayProcess | undefined;
      await eventually(async () => (frozen = await leader()) !== undefined, 'a node holds the sweep lease');
      const others = nodes.filter((node) => node !== frozen) as [RelayProcess, RelayProcess];
      await submit(others[0]);
      await submit(others[1]);
      frozen?.child.kill('SIGSTOP');
      await sleep(FREEZE_MS / 2);
      await submit(others[1]);
      await sleep(FREEZE_MS / 2);
      const during = await leader();
      assert.ok(during && during !== frozen, 'another node took the lease while the holder was frozen');
      frozen?.child.kill('SIGCONT');
      // Awake again, it must find the lease gone rather than sweep alongside the new holder.
      await sleep(INTERVAL_MS);
    }

    it('opens every escalation within three intervals of its deadline, once, through every freeze', async (t) => {
      for (let i = 0; i < FREEZES; i++) await freezeLeader();
      await submit(nodes[0] as RelayProcess);

      const escalated = async () =>
        (await database.db.kysely
          .selectFrom('escalations as e')
          .innerJoin('deliveries as d', (j) =>
            j.onRef('d.referral_id', '=', 'e.referral_id').onRef('d.team_id', '=', 'e.team_id'),
          )
          .select(['e.referral_id', 'e.team_id', 'e.reason', 'e.opened_at', 'd.send_by'])
          .where('e.reason', '=', 'not-sent')
          .where('d.purpose', '=', 'referral')
          .execute()) as Escalated[];
      const deliveries = await database.db.kysely
        .selectFrom('deliveries')
        .select(['referral_id', 'team_id'])
        .where('purpose', '=', 'referral')
        .execute();
      assert.equal(new Set(deliveries.map((d) => d.referral_id)).size, submitted, 'every referral accepted');
      await eventually(
        async () => (await escalated()).length >= deliveries.length,
        'every unsent delivery escalated',
        60_000,
      );

      const rows = await escalated();
      const perKey = new Map<string, number>();
      for (const e of rows) {
        const k = `${e.referral_id}|${e.team_id}|${e.reason}`;
        perKey.set(k, (perKey.get(k) ?? 0) + 1);
      }
      for (const [k, n] of perKey) assert.equal(n, 1, `one escalation for ${k}`);
      const late = rows.map((e) => Date.parse(e.opened_at) - Date.parse(e.send_by));
      for (const [i, ms] of late.entries()) {
        assert.ok(ms >= 0, 'never before the deadline');
        assert.ok(
          ms <= BOUND_MS,
          `escalation ${i} opened ${ms} ms after its deadline (bound ${BOUND_MS} ms)`,
        );
      }
      for (const node of nodes) assert.equal(node.child.exitCode, null, 'every node is still running');
      t.diagnostic(
        `${FREEZES} freezes of ${FREEZE_MS} ms at an interval of ${INTERVAL_MS} ms; ${rows.length} escalations, ` +
          `opened ${Math.min(...late)}–${Math.max(...late)} ms after their deadlines`,
      );
    });
  },
);
