import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startProbeServer, type ProbeServer } from '../../src/assurance/probes.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { createTestRelay, type TestRelay } from '../helpers/relay.ts';

/** Every `- alert:` rule in the YAML blocks of docs/operations.md, dedented to one rules list. */
function documentedRules(): string[] {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const rules: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      const start = /^(\s*)- alert: /.exec(lines[i] as string);
      if (!start) continue;
      const indent = (start[1] as string).length;
      const rule = [lines[i] as string];
      for (let j = i + 1; j < lines.length; j += 1) {
        const line = lines[j] as string;
        const lead = line.length - line.trimStart().length;
        if (line.trim() !== '' && lead <= indent) break;
        rule.push(line);
      }
      rules.push(
        rule
          .map((line) => line.slice(indent))
          .join('\n')
          .trimEnd(),
      );
    }
  }
  return rules;
}

/** The metric names an expression reads (every relay_* name, and `up`, which Prometheus adds). */
function metricsIn(rule: string): string[] {
  const expr = rule.slice(rule.indexOf('expr:')).split('annotations:')[0] as string;
  return [
    ...new Set([...expr.matchAll(/\b(relay_[a-z_]+|up)\b(?=\s*[{)[\s]|$)/g)].map((m) => m[1] as string)),
  ];
}

/** The metric families a scrape exposes, histogram and counter suffixes included. */
function families(scrape: string): Set<string> {
  return new Set(
    scrape
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line) as RegExpExecArray)[0]),
  );
}

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;

describe('the suggested alert rules in docs/operations.md', () => {
  const rules = documentedRules();

  it('are found: one per alert the docs describe', () => {
    const names = rules.map((r) => (/- alert: (\w+)/.exec(r) as RegExpExecArray)[1]);
    for (const name of ['RelayNotReady', 'RelayNoWorker', 'RelayTooFewWorkers', 'RelayMetricsDown']) {
      assert.ok(names.includes(name), `${name} is among ${names.join(', ')}`);
    }
    assert.equal(new Set(names).size, names.length, 'no alert is named twice');
  });

  it('pass promtool check rules', { skip: PROMTOOL ? false : 'promtool is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-rules-'));
    try {
      const file = join(dir, 'relay.rules.yml');
      const body = rules.map((r) => r.replace(/^/gm, '      ')).join('\n');
      writeFileSync(file, `groups:\n  - name: safeguard-relay\n    rules:\n${body}\n`);
      const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}\n${readFileSync(file, 'utf8')}`);
      assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describeEachDialect('read metrics that a web node and a worker node expose', (dialect) => {
    let relay: TestRelay;
    let probes: ProbeServer;
    before(async () => {
      relay = await createTestRelay(dialect);
      probes = await startProbeServer(relay.ctx, { host: '127.0.0.1', port: 0, logger: relay.app.log });
    });
    after(async () => {
      await probes.close();
      await relay.close();
    });

    it('every metric of every expression is in both scrapes', async () => {
      assert.ok(
        rules.every((rule) => metricsIn(rule).length > 0),
        'each expression names a metric',
      );
      const web = families((await relay.app.inject({ url: '/metrics' })).body);
      const worker = families(await (await fetch(`${probes.url}/metrics`)).text());
      for (const rule of rules) {
        for (const metric of metricsIn(rule)) {
          if (metric === 'up') continue; // Prometheus's own, per scraped target
          assert.ok(web.has(metric), `${metric} (in ${rule.split('\n')[0]}) is in a web node's scrape`);
          assert.ok(worker.has(metric), `${metric} is in a worker node's scrape`);
        }
      }
    });
  });
});
