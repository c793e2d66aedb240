import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { productionSettings } from '../helpers/production.ts';

const UNITS = ['relay-web.service', 'relay-worker.service'];
const unit = (name: string) => readFileSync(new URL(`../../deploy/systemd/${name}`, import.meta.url), 'utf8');
const ANALYZE = spawnSync('systemd-analyze', ['--version']).status === 0;

describe('the systemd units in deploy/systemd', () => {
  it('allow a drain its bound before SIGKILL: the larger of DRAIN_GRACE and SEND_TIMEOUT, plus 15 s', () => {
    const production = loadConfig({ ...productionSettings(), BOUNCES: 'off' });
    const bound = Math.max(production.drainGraceMs, production.delivery.timeoutMs) / 1000 + 15;
    for (const name of UNITS) {
      assert.equal(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit(name))?.[1]), bound, name);
      assert.match(unit(name), /^NoNewPrivileges=yes$/m);
      assert.match(unit(name), /^ProtectSystem=strict$/m);
    }
  });

  it('pass systemd-analyze verify', { skip: ANALYZE ? false : 'systemd-analyze is not installed' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'relay-units-'));
    try {
      // The deployment's paths and user do not exist here: stand-ins that do, the rest as written.
      const files = UNITS.map((name) => {
        const path = join(dir, name);
        const text = unit(name)
          .replace(
            /^ExecStart=\/usr\/bin\/node \/opt\/relay\/bin\/relay\.js/m,
            `ExecStart=${process.execPath} --version`,
          )
          .replace(/^EnvironmentFile=/m, 'EnvironmentFile=-')
          .replace(/^(User|Group)=relay$/gm, '$1=root')
          .replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${dir}`);
        writeFileSync(path, text);
        return path;
      });
      const result = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
