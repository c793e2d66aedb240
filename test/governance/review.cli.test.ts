import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';
import { runRelay } from '../helpers/process.ts';
import { pdfText, shaper } from './review.helpers.ts';

describe('relay review (command line)', () => {
  let relay: TestRelay;
  let env: Record<string, string>;
  let reference: string;
  const dir = mkdtempSync(join(tmpdir(), 'relay-review-cli-'));

  before(async () => {
    relay = await createTestRelay('sqlite');
    const shape = shaper(relay);
    const raised = await shape.raiseAt('2026-11-10T10:00:00Z');
    await shape.clean(raised.id);
    await shape.delivery(raised.id, { state: 'failed', sent_at: null });
    reference = raised.reference;
    env = { DATABASE_URL: relay.database.url };
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists and exports a review, each audited as the command line', async () => {
    const created = runRelay(
      [
        'review',
        'create',
        '--title',
        'CLI review',
        '--from',
        '2026-11-10',
        '--to',
        '2026-11-10',
        '--condition',
        'failed',
      ],
      env,
    );
    assert.equal(created.status, 0, created.stderr);
    const id = /^Created review ([0-9a-f-]{36}) with 1 cases\.$/m.exec(created.stdout)?.[1];
    assert.ok(id, created.stdout);

    const listed = runRelay(['review', 'list'], env);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${id}\\t\\S+\\t1\\t0%\\tCLI review$`, 'm'));

    const csv = runRelay(['review', 'export', id], env);
    assert.equal(csv.status, 0, csv.stderr);
    assert.match(csv.stdout, new RegExp(`^1,${reference},yes,`, 'm'));

    const output = join(dir, 'report.pdf');
    const pdf = runRelay(['review', 'export', id, '--format', 'pdf', '--output', output], env);
    assert.equal(pdf.status, 0, pdf.stderr);
    assert.match(pdfText(readFileSync(output)), /CLI review/);

    const actors = await relay.ctx.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor'])
      .where('action', 'like', 'review.%')
      .orderBy('seq')
      .execute();
    assert.deepEqual(actors, [
      { action: 'review.created', actor: 'cli' },
      { action: 'review.exported', actor: 'cli' },
      { action: 'review.exported', actor: 'cli' },
    ]);
  });

  it('fails with one line for bad input', () => {
    const bad = runRelay(
      [
        'review',
        'create',
        '--title',
        'x',
        '--from',
        '2026-13-01',
        '--to',
        '2026-11-10',
        '--condition',
        'failed',
      ],
      env,
    );
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim(), 'relay: --from must be a date, YYYY-MM-DD');
    const pdf = runRelay(['review', 'export', 'anything', '--format', 'pdf'], env);
    assert.equal(pdf.status, 1);
    assert.match(pdf.stderr, /a PDF needs --output FILE/);
    const missing = runRelay(['review', 'export', 'no-such-review'], env);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /No review with that id/);
  });
});
