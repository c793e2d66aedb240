import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { recentReferral } from '../helpers/referrals.ts';
import {
  childDatabaseEnv,
  createTestDatabase,
  describeEachDialect,
  type TestDatabase,
} from '../helpers/db.ts';
import { eventually, freePort, runRelay, startRelay, type RelayProcess } from '../helpers/process.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../helpers/smtp.ts';

/** A referral that happened a minute ago by the real clock, for a real process. */
function drainReferral(n: number) {
  return recentReferral({ system: 'drain-epcr', reference: `DRAIN-${n}` });
}

/** One series' value from a Prometheus text scrape, e.g. `relay_live_nodes{component="dispatcher"}`. */
function sample(scrape: string, series: string): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The probe address a worker logs on its "is running" line (the line's `probes` field). */
function probesUrl(output: string): string {
  const line = output.split('\n').find((l) => l.includes('is running'));
  const probes = line ? (JSON.parse(line) as { probes?: string }).probes : undefined;
  assert.ok(probes, `the worker names where its probes listen:\n${output}`);
  assert.ok(line?.includes(`/metrics at ${probes}`), 'and says it in words');
  return probes;
}

describeEachDialect('a worker node (--role worker)', (dialect) => {
  let database: TestDatabase;
  let smtp: TestSmtpServer;
  let env: Record<string, string>;
  const nodes: RelayProcess[] = [];

  before(async () => {
    database = await createTestDatabase(dialect, { migrate: false });
    smtp = await startTestSmtpServer();
    env = {
      ...childDatabaseEnv(database),
      SMTP_URL: smtp.url,
      WATCHDOG_INTERVAL_MS: '1000',
      TEST_ALERT_INTERVAL: 'off',
      SAFEGUARDING_EMAIL: 'safeguarding@example.org',
    };
    assert.equal(runRelay(['directory', 'import', '--demo'], env).status, 0);
  });
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    await smtp.close();
    await database.drop();
  });

  it('serves /healthz, /readyz and /metrics on METRICS_PORT, no pages, and says so', async () => {
    const port = await freePort();
    const worker = startRelay({ ...env, PORT: String(port) }, ['--role', 'worker']);
    nodes.push(worker);
    await worker.waitForOutput(/is running/);
    assert.doesNotMatch(worker.output(), /is running at http/, 'no claim of serving pages');
    assert.match(worker.output(), /no web pages or API on this node/);
    const probes = probesUrl(worker.stdout());

    assert.equal((await fetch(`${probes}/healthz`)).status, 200);
    const ready = await fetch(`${probes}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    const scrape = await (await fetch(`${probes}/metrics`)).text();
    assert.equal(sample(scrape, 'relay_live_nodes{component="dispatcher"}'), 1, scrape);
    assert.equal(sample(scrape, 'relay_live_nodes{component="watchdog"}'), 1);
    assert.equal(sample(scrape, 'relay_ready'), 1);
    assert.equal((await fetch(`${probes}/`)).status, 404, 'the probe port serves nothing else');
    assert.equal((await fetch(`${probes}/api/v1/referrals`)).status, 404);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'PORT is not listened on');

    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
  });

  it('with METRICS_PORT=off listens on nothing, and says that', async () => {
    const worker = startRelay({ ...env, PORT: String(await freePort()), METRICS_PORT: 'off' }, [
      '--role',
      'worker',
    ]);
    nodes.push(worker);
    await worker.waitForOutput(/is running/);
    assert.match(worker.output(), /nothing listens for HTTP \(METRICS_PORT=off\)/);
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
  });

  it('on SIGTERM releases claimed sends it had not started and finishes those in flight', async (t) => {
    const port = await freePort();
    const created = runRelay(
      ['apikey', 'create', '--name', 'drain', '--scope', 'referrals:write', '--system', 'drain-epcr'],
      env,
    );
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();
    // Each message is held before its 250: sends pile up in flight and claimed behind them.
    smtp.setDelay(1500);
    const drainEnv = {
      ...env,
      PORT: String(port),
      DISPATCH_CONCURRENCY: '6',
      SMTP_POOL_SIZE: '3',
      SEND_TIMEOUT: '20s',
      // Long: only a release, never a lapsed lease, lets another node send what this one gave back.
      DELIVERY_LEASE: '10m',
    };
    const node = startRelay(drainEnv);
    nodes.push(node);
    await node.waitForOutput(/is running/);
    for (let n = 0; n < 30; n += 1) {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/referrals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(drainReferral(n)),
      });
      assert.equal(response.status, 201, await response.text());
    }
    const deliveries = () =>
      database.db.kysely
        .selectFrom('deliveries')
        .select(['id', 'state', 'locked_by', 'lease_until', 'attempts'])
        .execute();
    await eventually(
      async () => (await deliveries()).filter((d) => d.state === 'sending').length >= 8,
      'more deliveries claimed than the node can send at once',
    );
    await smtp.waitFor(1);

    const stopAt = Date.now();
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, node.output());
    t.diagnostic(`SIGTERM to exit: ${Date.now() - stopAt} ms (SEND_TIMEOUT 20 s, SMTP answering in 1.5 s)`);

    const rows = await deliveries();
    const held = rows.filter((d) => d.state === 'sending' && d.locked_by !== null);
    assert.deepEqual(held, [], 'no delivery is left held under the stopped worker’s lease');
    const released = rows.filter((d) => d.state === 'sending');
    assert.ok(released.length > 0, 'some claimed deliveries had not started, and were given back');
    for (const d of released) {
      assert.ok(Date.parse(d.lease_until ?? '') <= Date.now(), 'the lease ended at the release');
      assert.equal(d.attempts, 0, 'a release takes back the attempt its claim counted');
    }
    const audited = await database.db.kysely
      .selectFrom('audit_log')
      .select('entity_id')
      .where('action', '=', 'delivery.released')
      .execute();
    assert.deepEqual(audited.map((a) => a.entity_id).sort(), released.map((d) => d.id).sort());
    assert.match(node.output(), /released to other workers/);

    // Another node sends what was given back at once, although DELIVERY_LEASE is ten minutes.
    smtp.setDelay(0);
    const next = startRelay({ ...drainEnv, PORT: String(await freePort()) }, ['--role', 'worker']);
    nodes.push(next);
    await eventually(
      async () => (await deliveries()).every((d) => d.state === 'sent'),
      'every delivery sent by the next worker',
    );
    next.child.kill('SIGTERM');
    assert.equal(await next.exited, 0, next.output());
  });
});
