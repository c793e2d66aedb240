import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { productionEnv, runRelay, startRelay } from '../helpers/process.ts';

const HOUR = 3_600_000;
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('relay oncall', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    database = await createTestDatabase('sqlite', { migrate: false });
    env = { DATABASE_URL: database.url, SAFEGUARDING_EMAIL: 'duty.desk@example.org' };
  });
  after(async () => database.drop());

  it('refuses a bad entry with a one-line reason and each field named', () => {
    const result = runRelay(['oncall', 'set', '--email', 'jo', '--from', 'soon', '--to', isoIn(HOUR)], env);
    assert.equal(result.status, 1);
    const lines = result.stderr.trim().split('\n');
    assert.match(lines[0] ?? '', /^relay: /);
    assert.match(result.stderr, /email: Enter an email address in the correct format/);
    assert.match(result.stderr, /from: Enter when the shift starts as a time like/);
    assert.match(
      runRelay(['oncall', 'list'], env).stdout,
      /The rota is empty: escalations go to SAFEGUARDING_EMAIL \(duty.desk@example.org\)/,
    );
  });

  it('sets, lists with gaps called out, refuses an overlap, and removes', () => {
    const set = runRelay(
      ['oncall', 'set', '--email', 'jo@example.org', '--from', isoIn(-HOUR), '--to', isoIn(24 * HOUR)],
      env,
    );
    assert.equal(set.status, 0, set.stderr);
    const id = /^Added (\S+):/.exec(set.stdout)?.[1];
    assert.ok(id, set.stdout);
    const overlap = runRelay(
      ['oncall', 'set', '--email', 'sam@example.org', '--from', isoIn(2 * HOUR), '--to', isoIn(30 * HOUR)],
      env,
    );
    assert.equal(overlap.status, 1);
    assert.match(overlap.stderr, new RegExp(`overlaps jo@example.org's entry .*${id}`));

    const list = runRelay(['oncall', 'list'], env).stdout.split('\n');
    assert.match(list[0] ?? '', new RegExp(`^${id} .* jo@example.org {2}\\(on call now\\)$`));
    assert.match(
      list[1] ?? '',
      /^GAP .*nobody on call: escalations go to SAFEGUARDING_EMAIL \(duty.desk@example.org\)$/,
    );
    assert.match(list[2] ?? '', /^1 gap in the next 7 days\.$/);

    const removed = runRelay(['oncall', 'remove', id], env);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(runRelay(['oncall', 'list'], env).stdout, /^The rota is empty/, 'no entry left');
    assert.match(runRelay(['oncall', 'remove', id], env).stderr, /^relay: Rota entry .* was already removed/);
  });
});

describe('relay start in production', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('sqlite', { migrate: false });
  });
  after(async () => database.drop());

  it('refuses to start with nobody on call and no SAFEGUARDING_EMAIL, then starts once someone is on call', async () => {
    // Nobody to tell: no SAFEGUARDING_EMAIL, and nobody on call yet.
    const { SAFEGUARDING_EMAIL: _, ...production } = await productionEnv();
    const env = { ...production, DATABASE_URL: database.url };
    const refused = runRelay(['start'], env);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr.trim(), /^relay: nobody to tell about escalations: .*SAFEGUARDING_EMAIL/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);

    const set = runRelay(
      ['oncall', 'set', '--email', 'jo@example.org', '--from', isoIn(-HOUR), '--to', isoIn(HOUR)],
      env,
    );
    assert.equal(set.status, 0, set.stderr);
    const relay = startRelay(env);
    try {
      await relay.waitForOutput(/is running/);
    } finally {
      relay.child.kill('SIGTERM');
      await relay.exited;
    }
  });
});
