import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { buildApp } from '../../src/app.ts';
import { SettableClock } from '../../src/clock.ts';
import { createContext } from '../../src/context.ts';
import { openDatabase } from '../../src/db/database.ts';
import { DEMO_DIRECTORY_PATH } from '../../src/directory/directory.service.ts';
import { inheritedClockEnv } from '../helpers/clock.ts';
import { testConfig } from '../helpers/relay.ts';
import { freePort } from '../helpers/process.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const KEY = /^srk_[A-Za-z0-9_-]{43}$/;
// A ceiling, not a limit a passing command comes near: a loaded machine starts a process slowly.
const RUN_TIMEOUT_MS = 120_000;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The child sees only what each test sets, not whatever configuration the developer's shell exports.
// A faked wall clock (RELAY_FAKE_NOW) is passed on, so the children share the suite's hour.
const INHERITED = {
  ...Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'TMP', 'TEMP', 'LANG', 'LC_ALL', 'SYSTEMROOT'].flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  ),
  ...inheritedClockEnv(),
};

const workspaces: string[] = [];
const children = new Set<ChildProcess>();

after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory with a not-yet-created SQLite database in it. */
function workspace(): { dir: string; dbPath: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'relay-cli-'));
  workspaces.push(dir);
  const dbPath = join(dir, 'relay.db');
  return { dir, dbPath, env: { DATABASE_URL: `sqlite:${dbPath}`, RELAY_ENV: 'test' } };
}

function spawnRelay(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['bin/relay.js', ...args], {
    cwd: ROOT,
    env: { ...INHERITED, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Runs `relay ...args` to completion; a hung command is killed and fails the test. */
function relay(args: string[], env: Record<string, string>, timeoutMs = RUN_TIMEOUT_MS): Promise<Result> {
  const child = spawnRelay(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`relay ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** The `msg` of each JSON log line `relay start` wrote (a line that is not JSON fails the parse). */
function logMessages(stdout: string): string[] {
  return lines(stdout).map((line) => (JSON.parse(line) as { msg: string }).msg);
}

/** A command that failed: exit 1, nothing on stdout, and a `relay: ` reason as the first line of stderr. */
function assertFailure(result: Result, reason: RegExp, options: { oneLine?: boolean } = {}): string[] {
  assert.equal(result.code, 1, `expected exit 1; stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const errorLines = lines(result.stderr);
  assert.ok(errorLines[0]?.startsWith('relay: '), `first stderr line: ${errorLines[0]}`);
  assert.match(errorLines[0] ?? '', reason);
  if (options.oneLine !== false) assert.equal(errorLines.length, 1, `one line only, got:\n${result.stderr}`);
  return errorLines;
}

function assertSuccess(result: Result): string[] {
  assert.equal(result.code, 0, `expected exit 0; stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.equal(result.stderr, '');
  return lines(result.stdout);
}

/** Reads the database a child wrote, as an operator with sqlite3 would. */
function query<T>(dbPath: string, statement: string): T[] {
  const db = new SQLite(dbPath, { readonly: true });
  try {
    return db.prepare(statement).all() as T[];
  } finally {
    db.close();
  }
}

function count(dbPath: string, table: string): number {
  return query<{ n: number }>(dbPath, `SELECT count(*) AS n FROM ${table}`)[0]?.n ?? NaN;
}

/** Status of GET /api/v1/referrals for a key, against an app built on the CLI's database. */
async function apiStatus(databaseUrl: string, key: string): Promise<number> {
  const db = openDatabase(databaseUrl);
  const app = buildApp(createContext(testConfig(), db, new SettableClock()));
  try {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/referrals',
      headers: { authorization: `Bearer ${key}` },
    });
    return response.statusCode;
  } finally {
    await app.close();
    await db.close();
  }
}

describe('relay --help', () => {
  const { dbPath, env } = workspace();

  it('describes the program and lists every command', async () => {
    const out = assertSuccess(await relay(['--help'], env)).join('\n');
    assert.match(out, /^Usage: relay \[options\] \[command\]/);
    assert.match(out, /Safeguard Relay/);
    for (const name of ['start', 'migrate', 'directory', 'apikey', 'audit']) {
      assert.match(out, new RegExp(`^  ${name}\\b`, 'm'), `lists ${name}`);
    }
  });

  const subcommands: [string[], RegExp[]][] = [
    [
      ['start'],
      [/Run the web app, API, dispatcher and watchdog/, /--demo/, /--role <role>/, /"web", "worker", "all"/],
    ],
    [['migrate'], [/Bring the database schema up to date/]],
    [['directory'], [/Manage the directory/, /import/]],
    [
      ['directory', 'import'],
      [/Import a directory file/, /\[file\]/, /--demo/],
    ],
    [['apikey'], [/Manage API keys/, /create/, /revoke/, /list/]],
    [
      ['apikey', 'create'],
      [/prints the key once/, /--name <name>/, /--scope <scope>/, /--team <team>/],
    ],
    [
      ['apikey', 'revoke'],
      [/Revoke an API key/, /<id>/],
    ],
    [['apikey', 'list'], [/never the keys themselves/]],
    [['audit'], [/audit log/, /verify/]],
    [
      ['audit', 'verify'],
      [/Check every link of the audit hash chain/, /non-zero/],
    ],
  ];
  for (const [command, expected] of subcommands) {
    it(`relay ${command.join(' ')} --help documents it`, async () => {
      const out = assertSuccess(await relay([...command, '--help'], env)).join('\n');
      assert.match(out, new RegExp(`^Usage: relay ${command.join(' ')} `));
      for (const pattern of expected) assert.match(out, pattern);
    });
  }

  it('help touches no database', () => {
    assert.equal(existsSync(dbPath), false);
  });

  it('an unknown command exits 1 with a relay: reason', async () => {
    const result = await relay(['frobnicate'], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(lines(result.stderr)[0] ?? '', /^relay: unknown command 'frobnicate'$/);
  });
});

describe('relay migrate', () => {
  const { dbPath, env } = workspace();

  it('creates the schema on a new database, and says what it applied', async () => {
    const out = assertSuccess(await relay(['migrate'], env));
    assert.equal(out.length, 1);
    assert.match(out[0] ?? '', /^Applied: 20261125080000_initial(, \d{14}_\w+)*$/);
    const applied = (out[0] ?? '').slice('Applied: '.length).split(', ');
    assert.deepEqual(
      query<{ name: string }>(dbPath, 'SELECT name FROM kysely_migration ORDER BY name').map((m) => m.name),
      applied,
    );
    const tables = query<{ name: string }>(dbPath, "SELECT name FROM sqlite_master WHERE type = 'table'").map(
      (t) => t.name,
    );
    for (const table of [
      'referrals',
      'deliveries',
      'audit_log',
      'audit_head',
      'api_keys',
      'directory_versions',
    ]) {
      assert.ok(tables.includes(table), `${table} exists`);
    }
  });

  it('running it again changes nothing and says so', async () => {
    const migrations = count(dbPath, 'kysely_migration');
    assert.deepEqual(assertSuccess(await relay(['migrate'], env)), ['The database is up to date.']);
    assert.equal(count(dbPath, 'kysely_migration'), migrations);
  });
});

describe('relay directory import', () => {
  const { dir, dbPath, env } = workspace();

  it('--demo imports the demo directory as version 1', async () => {
    const out = assertSuccess(await relay(['directory', 'import', '--demo'], env));
    assert.equal(out.length, 1);
    assert.match(
      out[0] ?? '',
      /^Imported directory version 1: 14 authorities, \d+ teams, \d+ coverage entries\.$/,
    );
    assert.equal(count(dbPath, 'directory_versions'), 1);
    assert.equal(count(dbPath, 'authorities'), 14);
  });

  it('importing the same file again says unchanged and writes no version', async () => {
    const out = assertSuccess(await relay(['directory', 'import', '--demo'], env));
    assert.deepEqual(out, ['Unchanged: the file matches directory version 1.']);
    const fromFile = assertSuccess(await relay(['directory', 'import', DEMO_DIRECTORY_PATH], env));
    assert.deepEqual(fromFile, ['Unchanged: the file matches directory version 1.']);
    assert.equal(count(dbPath, 'directory_versions'), 1);
  });

  it('a file naming an unknown authority exits 1, names the bad entry and imports nothing', async () => {
    const directory = JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as {
      coverage: { prefix: string; authority?: string }[];
    };
    const first = directory.coverage[0];
    assert.ok(first?.authority, 'the demo directory starts with a plain coverage entry');
    first.authority = 'atlantis-council';
    const file = join(dir, 'bad-directory.json');
    writeFileSync(file, JSON.stringify(directory));

    const result = await relay(['directory', 'import', file], env);
    const errors = assertFailure(result, /directory file has errors/, { oneLine: false });
    assert.ok(
      errors.some((line) => line.includes('coverage.0.authority') && line.includes('atlantis-council')),
      result.stderr,
    );
    assert.equal(count(dbPath, 'directory_versions'), 1);
  });

  it('a missing file exits 1 with one line naming it', async () => {
    const file = join(dir, 'no-such-directory.json');
    const [reason] = assertFailure(await relay(['directory', 'import', file], env), /no such file/);
    assert.ok(reason?.includes(file), reason);
  });

  it('a file that is not JSON exits 1 with one line naming it', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    const [reason] = assertFailure(await relay(['directory', 'import', file], env), /is not valid JSON$/);
    assert.ok(reason?.includes(file), reason);
  });

  it('neither a file nor --demo exits 1 with one line', async () => {
    assertFailure(await relay(['directory', 'import'], env), /^relay: give a FILE or --demo$/);
  });
});

describe('relay directory import: teams still in use', () => {
  const { dir, dbPath, env } = workspace();
  type File = { authorities: { id: string; teams: { id: string; name: string; hours: unknown }[] }[] };
  const demo = () => JSON.parse(readFileSync(DEMO_DIRECTORY_PATH, 'utf8')) as File;
  const team = (file: File, id: string) => file.authorities.flatMap((a) => a.teams).find((t) => t.id === id)!;
  let renamed = '';

  before(async () => {
    assertSuccess(await relay(['directory', 'import', '--demo'], env));
    const created = ['--name', 'Adults front door', '--scope', 'acknowledgements:write'];
    assertSuccess(await relay(['apikey', 'create', ...created, '--team', 'birmingham-adults'], env));
    const file = demo();
    team(file, 'birmingham-adults').name = 'Birmingham Adults (renamed)';
    const walsall = file.authorities.find((a) => a.id === 'walsall')!;
    walsall.teams = walsall.teams.filter((t) => t.id !== 'walsall-out-of-hours');
    team(file, 'dudley-children').hours = { weekly: {} };
    renamed = join(dir, 'renamed.json');
    writeFileSync(renamed, JSON.stringify(file));
  });

  it('refuses to rename a team with a live API key: one line naming it, exit 1, nothing written', async () => {
    const [reason] = assertFailure(
      await relay(['directory', 'import', renamed], env),
      /^relay: The import would remove or rename teams still in use: birmingham-adults \(renamed: 1 API key\) \(--force --reason TEXT to import anyway\)$/,
    );
    assert.doesNotMatch(reason ?? '', /walsall/, 'a removed team nothing points at is no conflict');
    assert.equal(count(dbPath, 'directory_versions'), 1);
  });

  it('--force without --reason exits 1 and writes nothing', async () => {
    assertFailure(
      await relay(['directory', 'import', renamed, '--force'], env),
      /^relay: --force needs --reason TEXT$/,
    );
    assert.equal(count(dbPath, 'directory_versions'), 1);
  });

  it('--dry-run says what would happen, with the warnings, and writes nothing', async () => {
    const refused = await relay(['directory', 'import', renamed, '--dry-run'], env);
    assertFailure(refused, /still in use: birmingham-adults/);
    const out = assertSuccess(
      await relay(['directory', 'import', renamed, '--dry-run', '--force', '--reason', 'team renamed'], env),
    );
    assert.match(
      out[0] ?? '',
      /^Dry run: would import a new directory version \(14 authorities, .*\); nothing was written\.$/,
    );
    assert.equal(out[1], 'Would force: birmingham-adults (renamed: 1 API key)');
    assert.match(out[2] ?? '', /^Warning: dudley-children is a day team with no opening hours/);
    assert.equal(out.length, 3);
    assert.equal(count(dbPath, 'directory_versions'), 1);
    assert.equal(count(dbPath, 'audit_log'), 2, 'the import and the key, nothing from the dry runs');
  });

  it('--force --reason imports and audits the forcing with the reason', async () => {
    const out = assertSuccess(
      await relay(
        ['directory', 'import', renamed, '--force', '--reason', 'Front door renamed by the council'],
        env,
      ),
    );
    assert.match(out[0] ?? '', /^Imported directory version 2: /);
    assert.equal(out[1], 'Forced: birmingham-adults (renamed: 1 API key)');
    assert.equal(count(dbPath, 'directory_versions'), 2);
    const [audit, ...more] = query<{ actor: string; detail: string; entity_id: string }>(
      dbPath,
      "SELECT actor, detail, entity_id FROM audit_log WHERE action = 'directory.import-forced'",
    );
    assert.equal(more.length, 0);
    assert.equal(audit?.actor, 'cli');
    assert.equal(audit?.entity_id, '2');
    const detail = JSON.parse(audit?.detail ?? '{}') as { reason: string; teams: { teamId: string }[] };
    assert.equal(detail.reason, 'Front door renamed by the council');
    assert.deepEqual(
      detail.teams.map((t) => t.teamId),
      ['birmingham-adults'],
    );
  });
});

describe('relay apikey', () => {
  const { dbPath, env } = workspace();
  const databaseUrl = env.DATABASE_URL as string;
  let key = '';
  let id = '';

  before(async () => {
    assertSuccess(await relay(['directory', 'import', '--demo'], env));
  });

  it('create prints exactly one line: the key alone', async () => {
    const result = await relay(
      ['apikey', 'create', '--name', 'Test ePCR', '--scope', 'referrals:write', '--system', 'test-epcr'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /\n$/);
    const out = result.stdout.split('\n');
    assert.equal(out.length, 2, `one line, got ${JSON.stringify(result.stdout)}`);
    key = out[0] ?? '';
    assert.match(key, KEY);
    // Only the hash is stored.
    const stored = query<{ id: string; key_hash: string }>(dbPath, 'SELECT id, key_hash FROM api_keys');
    assert.equal(stored.length, 1);
    assert.notEqual(stored[0]?.key_hash, key);
    id = stored[0]?.id ?? '';
  });

  it('the printed key authenticates against an app on the same database', async () => {
    assert.equal(await apiStatus(databaseUrl, key), 200);
    assert.equal(await apiStatus(databaseUrl, `srk_${'A'.repeat(43)}`), 401);
  });

  it('list shows the key’s record but never the key', async () => {
    const out = assertSuccess(await relay(['apikey', 'list'], env));
    assert.deepEqual(out, [[id, 'referrals:write', 'test-epcr', 'active', 'Test ePCR'].join('\t')]);
  });

  it('an acknowledgements:write key without --team exits 1 and creates nothing', async () => {
    const result = await relay(
      ['apikey', 'create', '--name', 'Team', '--scope', 'acknowledgements:write'],
      env,
    );
    const errors = assertFailure(result, /API key is not valid/, { oneLine: false });
    assert.ok(
      errors.some((line) => /team: .*bound to a team/.test(line)),
      result.stderr,
    );
    assert.equal(count(dbPath, 'api_keys'), 1);
  });

  it('an unknown scope or team exits 1 and creates nothing', async () => {
    const scope = await relay(['apikey', 'create', '--name', 'X', '--scope', 'everything'], env);
    assertFailure(scope, /API key is not valid/, { oneLine: false });
    assert.match(scope.stderr, /scope: Scope must be one of referrals:write, acknowledgements:write/);
    const team = await relay(
      ['apikey', 'create', '--name', 'X', '--scope', 'acknowledgements:write', '--team', 'nobody'],
      env,
    );
    assertFailure(team, /API key is not valid/, { oneLine: false });
    assert.match(team.stderr, /team: No team with that id/);
    assert.equal(count(dbPath, 'api_keys'), 1);
  });

  it('a team key names its team in the list', async () => {
    const result = await relay(
      [
        'apikey',
        'create',
        '--name',
        'Brum adults',
        '--scope',
        'acknowledgements:write',
        '--team',
        'birmingham-adults',
      ],
      env,
    );
    const [teamKey] = assertSuccess(result);
    assert.match(teamKey ?? '', KEY);
    const out = assertSuccess(await relay(['apikey', 'list'], env));
    assert.equal(out.length, 2);
    assert.match(
      out[1] ?? '',
      /^[0-9a-f-]{36}\tacknowledgements:write\tbirmingham-adults\tactive\tBrum adults$/,
    );
    assert.ok(!out.join('\n').includes('srk_'), 'no key is ever listed');
  });

  it('a missing required option exits 1 with the reason first, then the usage', async () => {
    const result = await relay(['apikey', 'create', '--scope', 'referrals:write'], env);
    const errors = assertFailure(result, /^relay: required option '--name <name>' not specified$/, {
      oneLine: false,
    });
    assert.ok(errors.includes('Usage: relay apikey create [options]'), result.stderr);
    assert.equal(count(dbPath, 'api_keys'), 2);
  });

  it('revoke stops the key working, and the list says so', async () => {
    assert.deepEqual(assertSuccess(await relay(['apikey', 'revoke', id], env)), [`Revoked ${id}.`]);
    assert.equal(await apiStatus(databaseUrl, key), 401);
    const out = assertSuccess(await relay(['apikey', 'list'], env));
    assert.match(
      out[0] ?? '',
      new RegExp(`^${id}\\treferrals:write\\ttest-epcr\\trevoked \\d{4}-\\d\\d-\\d\\dT[^\\t]+Z\\tTest ePCR$`),
    );
  });

  it('revoking again, or an unknown id, exits 1 with one line', async () => {
    assertFailure(await relay(['apikey', 'revoke', id], env), /^relay: No active API key with that id$/);
    assertFailure(
      await relay(['apikey', 'revoke', 'no-such-id'], env),
      /^relay: No active API key with that id$/,
    );
  });

  it('every change was audited', () => {
    const actions = query<{ action: string; actor: string }>(
      dbPath,
      'SELECT action, actor FROM audit_log ORDER BY seq',
    );
    assert.deepEqual(actions, [
      { action: 'directory.imported', actor: 'cli' },
      { action: 'apikey.created', actor: 'cli' },
      { action: 'apikey.created', actor: 'cli' },
      { action: 'apikey.revoked', actor: 'cli' },
    ]);
  });
});

describe('relay audit verify', () => {
  /** A database with a few audited changes made through the CLI. */
  async function populated(): Promise<ReturnType<typeof workspace>> {
    const space = workspace();
    assertSuccess(await relay(['directory', 'import', '--demo'], space.env));
    for (const name of ['A', 'B']) {
      const args = [
        'apikey',
        'create',
        '--name',
        name,
        '--scope',
        'referrals:write',
        '--system',
        `epcr-${name}`,
      ];
      assertSuccess(await relay(args, space.env));
    }
    return space;
  }

  /** What someone with the database file can do: drop the guard, then change history. */
  function tamper(dbPath: string, statements: string[]): void {
    const db = new SQLite(dbPath);
    try {
      for (const statement of statements) db.exec(statement);
    } finally {
      db.close();
    }
  }

  it('exits 0 on an untouched database and reports the entry count', async () => {
    const { dbPath, env } = await populated();
    const head = query<{ hash: string }>(dbPath, 'SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1')[0]
      ?.hash;
    assert.equal(count(dbPath, 'audit_log'), 3);
    assert.deepEqual(assertSuccess(await relay(['audit', 'verify'], env)), [
      `Audit chain intact: 3 entries, head ${head}.`,
    ]);
  });

  it('exits 0 on an empty log', async () => {
    const { env } = workspace();
    assert.deepEqual(assertSuccess(await relay(['audit', 'verify'], env)), [
      `Audit chain intact: 0 entries, head ${'0'.repeat(64)}.`,
    ]);
  });

  it('the database refuses an edit while the trigger is in place', async () => {
    const { dbPath, env } = await populated();
    assert.throws(
      () => tamper(dbPath, ["UPDATE audit_log SET detail = '{}' WHERE seq = 2"]),
      /audit_log is append-only/,
    );
    assert.equal(assertSuccess(await relay(['audit', 'verify'], env)).length, 1);
  });

  it('exits 1 naming the entry after a row was edited around the trigger', async () => {
    const { dbPath, env } = await populated();
    tamper(dbPath, ['DROP TRIGGER audit_log_no_update', "UPDATE audit_log SET detail = '{}' WHERE seq = 2"]);
    assertFailure(
      await relay(['audit', 'verify'], env),
      /^relay: audit chain broken at entry 2: entry 2 was changed after it was written$/,
    );
  });

  it('exits 1 when the newest entry was deleted', async () => {
    const { dbPath, env } = await populated();
    tamper(dbPath, ['DROP TRIGGER audit_log_no_delete', 'DELETE FROM audit_log WHERE seq = 3']);
    assertFailure(
      await relay(['audit', 'verify'], env),
      /^relay: audit chain broken at entry 3: .*deleted from the end/,
    );
  });
});

describe('RELAY_ENV=production', () => {
  const secrets = {
    SMTP_URL: 'smtp://relay:pw@127.0.0.1:2525',
    RELAY_SECRET: 'p'.repeat(40),
    RELAY_DATA_KEYS: `k1:${Buffer.alloc(32, 9).toString('base64')}`,
    AUDIT_KEY: 'an-audit-key-of-at-least-32-characters',
    BOUNCE_SMTP_PORT: '2526',
    BOUNCE_DOMAIN: 'bounces.relay.example.org',
    BASE_URL: 'https://relay.example.org',
  };

  it('refuses to run without its secrets, naming each, and touches no database', async () => {
    const { dbPath, env } = workspace();
    const [reason] = assertFailure(
      await relay(['migrate'], { ...env, RELAY_ENV: 'production' }),
      /^relay: Invalid configuration: /,
    );
    for (const name of [
      'SMTP_URL',
      'RELAY_SECRET',
      'RELAY_DATA_KEYS',
      'AUDIT_KEY',
      'BOUNCE_SMTP_PORT',
      'BOUNCE_DOMAIN',
    ])
      assert.ok(reason?.includes(name), reason);
    assert.equal(existsSync(dbPath), false);
  });

  it('runs with all of them set', async () => {
    const { env } = workspace();
    assertSuccess(await relay(['migrate'], { ...env, ...secrets, RELAY_ENV: 'production' }));
  });

  it('never loads demo data, through import or start', async () => {
    const { dbPath, env } = workspace();
    const production = { ...env, ...secrets, RELAY_ENV: 'production', PORT: String(await freePort()) };
    assertFailure(await relay(['directory', 'import', '--demo'], production), /never .*production/);
    assertFailure(await relay(['start', '--demo'], production), /never .*production/);
    assert.equal(count(dbPath, 'directory_versions'), 0);
    assert.equal(count(dbPath, 'api_keys'), 0);
  });
});

describe('relay start', () => {
  const { dbPath, env } = workspace();

  interface Running {
    child: ChildProcess;
    port: number;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  }

  /** Starts `relay start --demo` on a free port and waits for it to say it is running. */
  async function startRelay(): Promise<Running> {
    const port = await freePort();
    // MAILCATCHER_PORT=0: without SMTP_URL, start runs the built-in mail catcher, which must not collide.
    const child = spawnRelay(['start', '--demo'], {
      ...env,
      PORT: String(port),
      MAILCATCHER_PORT: '0',
      LOG_LEVEL: 'info',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
      child.once('close', (code, signal) => resolvePromise({ code, signal })),
    );
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`relay start did not report running within ${RUN_TIMEOUT_MS} ms\n${stdout}\n${stderr}`),
        );
      }, RUN_TIMEOUT_MS);
      const check = () => {
        if (/ is running at /.test(stdout)) {
          clearTimeout(timer);
          resolvePromise();
        }
      };
      child.stdout?.on('data', check);
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`relay start exited early (${code})\n${stdout}\n${stderr}`));
      });
    });
    return { child, port, stdout: () => stdout, stderr: () => stderr, exited };
  }

  /** SIGTERM, then insist on a clean exit (within a generous ceiling). */
  async function stop(running: Running): Promise<void> {
    running.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      running.exited,
      new Promise<'timeout'>(
        (resolvePromise) => (timer = setTimeout(() => resolvePromise('timeout'), RUN_TIMEOUT_MS)),
      ),
    ]);
    clearTimeout(timer);
    if (outcome === 'timeout') running.child.kill('SIGKILL');
    assert.deepEqual(
      outcome,
      { code: 0, signal: null },
      `stdout: ${running.stdout()} stderr: ${running.stderr()}`,
    );
  }

  let demoKey = '';

  it('serves /healthz and /readyz over HTTP, prints the demo keys once, and stops cleanly on SIGTERM', async () => {
    const running = await startRelay();
    try {
      // The keys and passwords are for the person who started it: text on stderr, never in the log.
      const out = lines(running.stderr());
      assert.match(out[0] ?? '', /^Loaded the demo directory \(version 1: 14 authorities, \d+ teams\)\.$/);
      assert.equal(out.filter((line) => line.startsWith('Demo API keys')).length, 1);
      const keys = out.flatMap((line) => /: (srk_\S+)$/.exec(line)?.[1] ?? []);
      assert.equal(keys.length, 2, running.stderr());
      assert.doesNotMatch(running.stdout(), /srk_|password/);
      for (const k of keys) assert.match(k, KEY);
      demoKey = keys[0] ?? '';
      assert.ok(
        logMessages(running.stdout()).includes(
          `Safeguard Relay (all) is running at http://localhost:${running.port}`,
        ),
      );

      const base = `http://127.0.0.1:${running.port}`;
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      const readiness = (await ready.json()) as { status?: string; components?: { database?: unknown } };
      assert.equal(ready.status, 200, JSON.stringify(readiness));
      assert.equal(readiness.status, 'ready');
      assert.equal(readiness.components?.database, 'ok');

      // The printed ePCR key works over real HTTP.
      const list = await fetch(`${base}/api/v1/referrals`, {
        headers: { authorization: `Bearer ${demoKey}` },
      });
      assert.equal(list.status, 200);
      const denied = await fetch(`${base}/api/v1/referrals`);
      assert.equal(denied.status, 401);
    } finally {
      await stop(running);
    }
    assert.ok(logMessages(running.stdout()).some((msg) => msg.startsWith('SIGTERM received')));
    // RELAY_ENV=test with no secrets: the development stand-ins are announced, as log warnings.
    assert.ok(logMessages(running.stdout()).some((msg) => /^WARNING: RELAY_SECRET is not set/.test(msg)));
    assert.equal(count(dbPath, 'api_keys'), 2);
  });

  it('a second start on the same database loads nothing and prints no keys', async () => {
    const running = await startRelay();
    try {
      const health = await fetch(`http://127.0.0.1:${running.port}/healthz`);
      assert.equal(health.status, 200);
      const list = await fetch(`http://127.0.0.1:${running.port}/api/v1/referrals`, {
        headers: { authorization: `Bearer ${demoKey}` },
      });
      assert.equal(list.status, 200, 'the first start’s key still works');
    } finally {
      await stop(running);
    }
    assert.doesNotMatch(running.stdout() + running.stderr(), /srk_|Demo API keys|Loaded the demo directory/);
    assert.equal(count(dbPath, 'api_keys'), 2);
    assert.equal(count(dbPath, 'directory_versions'), 1);
  });
});
