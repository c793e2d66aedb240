import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDataKeys, type Config } from '../src/config.ts';
import { DAY, HOUR, MINUTE, SECOND } from '../src/time.ts';

const SECRET = 'a-secret-of-at-least-32-characters';
const key = (fill: number, bytes = 32) => Buffer.alloc(bytes, fill).toString('base64');
const PRODUCTION = {
  RELAY_ENV: 'production',
  SMTP_URL: 'smtps://relay:pw@mail.example.org:465',
  RELAY_SECRET: SECRET,
  RELAY_DATA_KEYS: `k1:${key(1)}`,
  AUDIT_KEY: 'an-audit-key-of-at-least-32-characters',
  BOUNCE_SMTP_PORT: '2526',
  BOUNCE_DOMAIN: 'bounces.relay.example.org',
  BASE_URL: 'https://relay.example.org',
};

const BOUNCE_PORT_REQUIRED =
  'BOUNCE_SMTP_PORT is required when RELAY_ENV=production, or late bounces are lost (BOUNCES=off runs without them, and /readyz says so)';
const BOUNCE_DOMAIN_REQUIRED =
  'BOUNCE_DOMAIN must be a domain whose mail reaches BOUNCE_SMTP_PORT, not localhost, when RELAY_ENV=production (or set BOUNCES=off)';

/** The problems loadConfig reports, or a failure if it accepted the environment. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.message, `Invalid configuration: ${error.problems.join('; ')}`);
    return error.problems;
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.databaseUrl, 'sqlite:./data/relay.db');
    assert.equal(config.port, 3000);
    assert.equal(config.baseUrl, 'http://localhost:3000');
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.watchdogIntervalMs, 15_000);
    assert.deepEqual(config.deadlines, {
      sendByMs: 5 * MINUTE,
      ackBy: { immediate: 1 * HOUR, urgent: 4 * HOUR, routine: 'next-working-day' },
      triageByMs: 30 * MINUTE,
      reminderBeforeMs: 15 * MINUTE,
    });
    assert.equal(config.retryWindowMs, 24 * HOUR);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.bounces, 'on');
    assert.equal(config.bounceDomain, 'localhost');
    assert.equal(config.bounceSmtpPort, undefined);
  });

  it('stands in development-only secrets when none are set, and says which', () => {
    const config = loadConfig({});
    assert.deepEqual(config.insecureDefaults, ['RELAY_SECRET', 'RELAY_DATA_KEYS', 'AUDIT_KEY']);
    assert.ok(config.secret.length >= 32);
    assert.equal(config.dataKeys.length, 1);
    assert.equal(config.dataKeys[0]?.key.length, 32);

    const configured = loadConfig({
      RELAY_SECRET: SECRET,
      RELAY_DATA_KEYS: `k1:${key(1)}`,
      AUDIT_KEY: PRODUCTION.AUDIT_KEY,
    });
    assert.deepEqual(configured.insecureDefaults, []);
    assert.equal(configured.secret, SECRET);
  });

  it('is silent in tests and follows PORT into the default BASE_URL', () => {
    const config = loadConfig({ RELAY_ENV: 'test', PORT: '8080' });
    assert.equal(config.env, 'test');
    assert.equal(config.logLevel, 'silent');
    assert.equal(config.port, 8080);
    assert.equal(config.baseUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ BASE_URL: 'https://relay.example.org/' }).baseUrl, 'https://relay.example.org');
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
  });

  it('reads durations with units', () => {
    const config = loadConfig({
      SEND_BY: '90s',
      ACK_BY_IMMEDIATE: '5m',
      ACK_BY_URGENT: '4h',
      ACK_BY_ROUTINE: '2d',
      TRIAGE_BY: '250ms',
      REMINDER_BEFORE: '10m',
      RETRY_WINDOW: '48h',
    });
    assert.deepEqual(config.deadlines, {
      sendByMs: 90 * SECOND,
      ackBy: { immediate: 5 * MINUTE, urgent: 4 * HOUR, routine: 2 * DAY },
      triageByMs: 250,
      reminderBeforeMs: 10 * MINUTE,
    });
    assert.equal(config.retryWindowMs, 48 * HOUR);
    assert.equal(
      loadConfig({ ACK_BY_ROUTINE: 'next-working-day' }).deadlines.ackBy.routine,
      'next-working-day',
    );
  });

  it('refuses durations without a unit or with an unknown one', () => {
    for (const bad of ['5', '5 minutes', '1.5h', '-5m', '5w', 'soon']) {
      const problems = problemsOf({ SEND_BY: bad });
      assert.equal(problems.length, 1, bad);
      assert.match(problems[0] ?? '', /^SEND_BY: Invalid duration/, bad);
    }
    assert.match(problemsOf({ ACK_BY_IMMEDIATE: 'next-working-day' })[0] ?? '', /^ACK_BY_IMMEDIATE: /);
  });

  it('collects every problem into one ConfigError', () => {
    const problems = problemsOf({ PORT: 'eighty', SEND_BY: 'soon', RETRY_WINDOW: '1 day' });
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /^PORT: must be a port number$/);
    assert.ok(problems.some((p) => p.startsWith('SEND_BY: ')));
    assert.ok(problems.some((p) => p.startsWith('RETRY_WINDOW: ')));
  });

  it('refuses each malformed variable, naming it', () => {
    const cases: Record<string, string> = {
      RELAY_ENV: 'staging',
      PORT: '70000',
      DATABASE_URL: 'mysql://db/relay',
      BASE_URL: 'ftp://relay.example.org',
      SMTP_URL: 'http://mail.example.org',
      BOUNCE_SMTP_PORT: '-1',
      WATCHDOG_INTERVAL_MS: '0',
    };
    for (const [name, value] of Object.entries(cases)) {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, `${name}=${value}`);
      assert.ok(problems[0]?.startsWith(`${name}: `), problems[0]);
    }
    const all = problemsOf(cases);
    assert.deepEqual(all.map((p) => p.split(':')[0]).sort(), Object.keys(cases).sort());
  });

  it('accepts the database URLs it documents', () => {
    for (const url of ['sqlite:./x.db', 'sqlite::memory:', 'postgres://u@h/db', 'postgresql://u@h/db']) {
      assert.equal(loadConfig({ DATABASE_URL: url }).databaseUrl, url);
    }
  });

  it('insists RELAY_SECRET has at least 32 characters', () => {
    assert.deepEqual(problemsOf({ RELAY_SECRET: 'x'.repeat(31) }), [
      'RELAY_SECRET: must be at least 32 characters',
    ]);
    assert.equal(loadConfig({ RELAY_SECRET: 'x'.repeat(32) }).secret, 'x'.repeat(32));
  });

  describe('RELAY_DATA_KEYS', () => {
    it('reads comma-separated id:base64 pairs in order; the last one encrypts', () => {
      const config = loadConfig({ RELAY_DATA_KEYS: `2025:${key(1)}, 2026:${key(2)}` });
      assert.deepEqual(
        config.dataKeys.map((k) => k.id),
        ['2025', '2026'],
      );
      assert.deepEqual(config.dataKeys[0]?.key, Buffer.alloc(32, 1));
      assert.equal(config.dataKeys.at(-1)?.id, '2026');
      assert.deepEqual(config.dataKeys.at(-1)?.key, Buffer.alloc(32, 2));
    });

    it('refuses a key that is not 32 bytes, naming it', () => {
      const problems = problemsOf({ RELAY_DATA_KEYS: `good:${key(1)},short:${key(2, 16)}` });
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', /^RELAY_DATA_KEYS: key "short" must be id:base64 of 32 bytes$/);
      assert.throws(() => parseDataKeys(`long:${key(1, 33)}`), /key "long"/);
    });

    it('refuses a pair without an id', () => {
      assert.throws(() => parseDataKeys(`:${key(1)}`), /must be id:base64/);
      assert.throws(() => parseDataKeys(key(1)), /must be id:base64/);
    });

    it('refuses duplicate ids', () => {
      assert.deepEqual(problemsOf({ RELAY_DATA_KEYS: `k1:${key(1)},k1:${key(2)}` }), [
        'RELAY_DATA_KEYS: key ids must be unique',
      ]);
    });
  });

  describe('RELAY_ENV=production', () => {
    it('requires SMTP_URL, RELAY_SECRET and RELAY_DATA_KEYS, all reported together', () => {
      assert.deepEqual(problemsOf({ RELAY_ENV: 'production' }), [
        'SMTP_URL is required when RELAY_ENV=production',
        'RELAY_SECRET is required when RELAY_ENV=production',
        'RELAY_DATA_KEYS is required when RELAY_ENV=production',
        'AUDIT_KEY is required when RELAY_ENV=production',
        BOUNCE_PORT_REQUIRED,
        BOUNCE_DOMAIN_REQUIRED,
        'BASE_URL is required when RELAY_ENV=production: the https:// address people reach Relay at',
      ]);
    });

    it('requires an https BASE_URL (issue 14, finding 8)', () => {
      assert.deepEqual(problemsOf({ ...PRODUCTION, BASE_URL: 'http://relay.example.org' }), [
        'BASE_URL must be an https:// address when RELAY_ENV=production',
      ]);
    });

    it('names just the one that is missing', () => {
      for (const name of ['SMTP_URL', 'RELAY_SECRET', 'RELAY_DATA_KEYS', 'AUDIT_KEY'] as const) {
        const env: Record<string, string> = { ...PRODUCTION };
        delete env[name];
        assert.deepEqual(problemsOf(env), [`${name} is required when RELAY_ENV=production`]);
      }
    });

    it('requires bounce handling: a port to listen on and a domain mail can reach, unless BOUNCES=off', () => {
      const without = (...names: string[]) =>
        Object.fromEntries(Object.entries(PRODUCTION).filter(([name]) => !names.includes(name)));
      assert.deepEqual(problemsOf(without('BOUNCE_SMTP_PORT')), [BOUNCE_PORT_REQUIRED]);
      assert.deepEqual(problemsOf(without('BOUNCE_DOMAIN')), [BOUNCE_DOMAIN_REQUIRED]);
      assert.deepEqual(problemsOf({ ...PRODUCTION, BOUNCE_DOMAIN: 'localhost' }), [BOUNCE_DOMAIN_REQUIRED]);
      assert.deepEqual(problemsOf({ ...PRODUCTION, BOUNCE_SMTP_PORT: 'none' }), [
        'BOUNCE_SMTP_PORT: must be a port number',
        BOUNCE_PORT_REQUIRED,
      ]);
      const off = loadConfig({ ...without('BOUNCE_SMTP_PORT', 'BOUNCE_DOMAIN'), BOUNCES: 'off' });
      assert.equal(off.bounces, 'off');
      assert.equal(off.bounceSmtpPort, undefined);
      assert.equal(loadConfig(PRODUCTION).bounces, 'on');
    });

    it('refuses BOUNCES=off beside a BOUNCE_SMTP_PORT, and a BOUNCES that is neither on nor off', () => {
      const contradiction = 'BOUNCES=off and BOUNCE_SMTP_PORT contradict each other: unset one of them';
      assert.deepEqual(problemsOf({ ...PRODUCTION, BOUNCES: 'off' }), [contradiction]);
      assert.deepEqual(problemsOf({ BOUNCES: 'off', BOUNCE_SMTP_PORT: '2526' }), [contradiction]);
      assert.deepEqual(problemsOf({ BOUNCES: 'no' }), ['BOUNCES: must be on or off']);
    });

    it('takes AUDIT_KEY as given, refusing a short one or one equal to RELAY_SECRET', () => {
      assert.deepEqual(loadConfig(PRODUCTION).auditKey, Buffer.from(PRODUCTION.AUDIT_KEY, 'utf8'));
      assert.deepEqual(problemsOf({ ...PRODUCTION, AUDIT_KEY: 'short' }), [
        'AUDIT_KEY: must be at least 32 characters (e.g. openssl rand -base64 32)',
        'AUDIT_KEY is required when RELAY_ENV=production',
      ]);
      assert.deepEqual(problemsOf({ ...PRODUCTION, AUDIT_KEY: SECRET }), [
        'AUDIT_KEY must differ from RELAY_SECRET',
      ]);
    });

    it('does not count a rejected value as set', () => {
      const problems = problemsOf({ ...PRODUCTION, RELAY_SECRET: 'too-short' });
      assert.deepEqual(problems, [
        'RELAY_SECRET: must be at least 32 characters',
        'RELAY_SECRET is required when RELAY_ENV=production',
      ]);
    });

    it('starts with all three set, without development stand-ins', () => {
      const config = loadConfig(PRODUCTION);
      assert.equal(config.env, 'production');
      assert.equal(config.smtpUrl, PRODUCTION.SMTP_URL);
      assert.equal(config.secret, SECRET);
      assert.deepEqual(
        config.dataKeys.map((k) => k.id),
        ['k1'],
      );
      assert.deepEqual(config.insecureDefaults, []);
    });
  });

  it('reads HEARTBEAT_URL (off by default) and MAX_CLOCK_SKEW (30 s by default, or off)', () => {
    const defaults = loadConfig({});
    assert.deepEqual(defaults.liveness, { heartbeatUrl: undefined, maxClockSkewMs: 30_000 });
    const set = loadConfig({ HEARTBEAT_URL: 'https://hc-ping.example/abc', MAX_CLOCK_SKEW: '2m' });
    assert.deepEqual(set.liveness, {
      heartbeatUrl: 'https://hc-ping.example/abc',
      maxClockSkewMs: 2 * MINUTE,
    });
    assert.equal(loadConfig({ MAX_CLOCK_SKEW: 'off' }).liveness.maxClockSkewMs, null);
    assert.deepEqual(problemsOf({ HEARTBEAT_URL: 'ftp://monitor.example/x', MAX_CLOCK_SKEW: '0s' }), [
      'HEARTBEAT_URL: must be an http(s) URL',
      'MAX_CLOCK_SKEW: must be longer than zero',
    ]);
  });

  it('returns a frozen configuration, nested parts included', () => {
    const config = loadConfig({ RELAY_DATA_KEYS: `k1:${key(1)}` }) as Config;
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      config.port = 1;
    }, TypeError);
    assert.throws(() => {
      config.deadlines.sendByMs = 1;
    }, TypeError);
    assert.throws(() => {
      config.deadlines.ackBy.urgent = 1;
    }, TypeError);
    assert.throws(() => {
      config.dataKeys.push({ id: 'mine', key: Buffer.alloc(32) });
    }, TypeError);
    assert.throws(() => {
      config.insecureDefaults.length = 0;
    }, TypeError);
    assert.equal(config.port, 3000);
    assert.equal(config.deadlines.sendByMs, 5 * MINUTE);
    assert.equal(config.deadlines.ackBy.urgent, 4 * HOUR);
  });
});
