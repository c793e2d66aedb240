import { resolve } from 'node:path';
import { readMeshConfig, type MeshConfig } from './config.mesh.ts';
import { readOidcConfig, type OidcConfig } from './config.oidc.ts';
import { DAY, HOUR, MINUTE, parseDuration, SECOND } from './time.ts';

export type RelayEnv = 'development' | 'test' | 'production';
export type MfaLocal = 'required' | 'optional';

export type SmtpTls = 'starttls' | 'implicit' | 'off';

export interface DataKey {
  id: string;
  key: Buffer;
}

/** How long each step may take; the deadlines (src/directory/deadlines.ts) are computed from it. */
export interface DeadlinePolicy {
  sendByMs: number;
  ackBy: { immediate: number; urgent: number; routine: number | 'next-working-day' };
  triageByMs: number;
  reminderBeforeMs: number;
}

export interface Config {
  env: RelayEnv;
  /** RELAY_MODE=drill (or `relay start --drill`): read and show a restored copy, send nothing. */
  mode: 'live' | 'drill';
  databaseUrl: string;
  host: string;
  port: number;
  baseUrl: string;
  smtpUrl: string | undefined;
  /**
   * SMTP_TLS: `starttls` upgrades every connection and refuses to send in clear; `implicit` speaks
   * TLS from the first byte (smtps://, port 465); `off` never uses TLS, refused in production.
   */
  smtpTls: SmtpTls;
  mailFrom: string;
  bounceDomain: string;
  bounceSmtpPort: number | undefined;
  /** BOUNCE_HOST: the address the bounce listener binds; HOST unless set (MX traffic may come in elsewhere). */
  bounceHost: string;
  /**
   * METRICS_PORT: where a worker node (`--role worker`) serves /healthz, /readyz and /metrics, so it
   * can be watched like any node; null when `off`. Web and all-in-one nodes serve them on PORT.
   */
  metricsPort: number | null;
  /**
   * DRAIN_GRACE: after SIGTERM a node serving HTTP answers 503 (readiness included) this long before
   * it closes its socket, so the load balancer's health check takes it out of rotation first
   * (10 s in production, none elsewhere, where no load balancer waits).
   */
  drainGraceMs: number;
  /** `off` (BOUNCES=off) says, on purpose, that nothing listens for bounces; readiness reports it. */
  bounces: 'on' | 'off';
  secret: string;
  /** The last key encrypts; every key decrypts (so keys can be rotated). */
  dataKeys: DataKey[];
  /**
   * AUDIT_KEY: keys the audit chain's hashes (HMAC-SHA256) and signs its anchors. Kept outside the
   * database, so write access to the database alone cannot rebuild the chain.
   */
  auditKey: Buffer;
  watchdogIntervalMs: number;
  deadlines: DeadlinePolicy;
  retryWindowMs: number;
  /** How long after a referral closes its personal data is kept (unless on legal hold). */
  retentionPeriodMs: number;
  delivery: DeliveryConfig;
  assurance: AssuranceConfig;
  liveness: LivenessConfig;
  escalation: EscalationConfig;
  /** Port of the built-in mail catcher, used only when SMTP_URL is unset (0 picks a free port). */
  mailCatcherPort: number;
  /**
   * MAILCATCHER=on runs the built-in mail catcher without `--demo` when SMTP_URL is unset; never
   * allowed in production, where the catcher would hold real referrals.
   */
  mailCatcher: boolean;
  /** Sign-in attempts one client may make a minute (per node); more are answered 429. */
  signInRateLimit: number;
  /**
   * API_KEY_CACHE: how long a node trusts a recognised API key without reading it again, so a
   * revocation made elsewhere (the CLI, another node) takes effect within it; `0s` reads every time.
   */
  apiKeyCacheMs: number;
  /** SESSION_MAX_AGE: a session ends this long after sign-in, however busy (default 12h). */
  sessionMaxAgeMs: number;
  /** LOCAL_SIGN_IN=off: no password sign-in at all, only the identity providers. */
  localSignIn: boolean;
  /**
   * MFA_LOCAL: `required` (the default in production) makes every password sign-in follow with a
   * TOTP code, enrolling the person at their first; `optional` asks only people already enrolled.
   */
  mfaLocal: MfaLocal;
  oidc: OidcConfig;
  /** MESH_URL and the rest: Relay's own MESH mailbox, for the `mesh` channel; undefined when unset. */
  mesh: MeshConfig | undefined;
  /**
   * TRUST_PROXY: the reverse proxies' addresses (comma-separated IPs or CIDR ranges) whose
   * X-Forwarded-For names the client; unset, the connecting address is the client.
   */
  trustProxy: string | undefined;
  logLevel: string;
  /** Which development-only defaults stand in for missing secrets, so start-up can warn loudly. */
  insecureDefaults: string[];
}

export interface DeliveryConfig {
  /** Sends in flight at once on one node. */
  concurrency: number;
  /** SMTP connections kept open in the pool. */
  smtpPoolSize: number;
  /** Connection, greeting and socket time-out for SMTP and webhooks. */
  timeoutMs: number;
  /** How long a claimed delivery stays with its worker; a dead worker's deliveries return after it. */
  leaseMs: number;
  /** The fallback poll when no in-process or database signal wakes the dispatcher. */
  pollIntervalMs: number;
  /**
   * WEBHOOK_ALLOW_PRIVATE=on: webhooks may reach private, shared (CGNAT) and loopback addresses, for
   * a council's internal network. Link-local, metadata, multicast and reserved addresses never.
   */
  webhookAllowPrivate: boolean;
}

export interface AssuranceConfig {
  /** How often every team address gets a test alert; null when TEST_ALERT_INTERVAL=off. */
  testAlertIntervalMs: number | null;
  /** Where the daily summary goes; the summary is off when unset. */
  safeguardingEmail: string | undefined;
  /** London wall-clock time 'HH:MM' after which the daily summary is sent. */
  dailySummaryAt: string;
  /** Below this same-weekday average a quiet day is normal noise, not a stopped source. */
  volumeMinAverage: number;
  /** A day below this fraction of its same-weekday average raises a volume-drop escalation. */
  volumeDropRatio: number;
}

/** How Relay shows that it is itself alive and its clock right, to readiness and to the outside. */
export interface LivenessConfig {
  /** The dead man's switch: GET after every completed sweep, so an outside monitor notices silence. */
  heartbeatUrl: string | undefined;
  /**
   * How far this node's clock may drift from the database server's (PostgreSQL) before the node is
   * unready and a clock-skew escalation opens; null when MAX_CLOCK_SKEW=off (tests that fake the clock).
   */
  maxClockSkewMs: number | null;
}

/** The last mile: how an escalation reaches a named person and keeps reaching them until it is dealt with. */
export interface EscalationConfig {
  /** Unclaimed this long, an escalation goes to the next rung (a third of it for `immediate` referrals). */
  claimByMs: number;
  /** A claim with no progress for this long lapses, and the escalation is pushed again. */
  claimTtlMs: number;
  /** After a resolution, when the condition is checked again (a resolution may name another time). */
  reopenAfterMs: number;
  /** ESCALATION_LADDER: the addresses pushed in turn after the person on call. */
  ladder: string[];
  /** PAGER_WEBHOOK_URL: an SMS or paging gateway, POSTed each push, signed with the secret. */
  pagerWebhookUrl: string | undefined;
  pagerWebhookSecret: string | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
  }
}

type Env = Record<string, string | undefined>;

// Development-only stand-ins: fixed so acknowledge links keep working across restarts of a demo.
const DEV_SECRET = 'development-only-secret-do-not-use-in-production';
const DEV_DATA_KEY = `dev:${Buffer.alloc(32, 7).toString('base64')}`;
export const DEV_AUDIT_KEY = 'development-only-audit-key-do-not-use-in-production';

/** Builds the one frozen configuration from the environment; collects every problem before failing. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const insecureDefaults: string[] = [];
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    try {
      return parse(raw);
    } catch (e) {
      problems.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
      return fallback;
    }
  };

  const relayEnv = read<RelayEnv>('RELAY_ENV', 'development', parseRelayEnv);
  const port = read('PORT', 3000, (raw) => parsePort(raw));
  const production = relayEnv === 'production';
  const secret = read('RELAY_SECRET', '', parseSecret);
  const dataKeys = read<DataKey[]>('RELAY_DATA_KEYS', [], parseDataKeys);
  const smtpUrl = read<string | undefined>('SMTP_URL', undefined, parseSmtpUrl);
  const auditKey = read('AUDIT_KEY', '', parseAuditKey);

  if (production) {
    if (!smtpUrl) problems.push('SMTP_URL is required when RELAY_ENV=production');
    if (!secret) problems.push('RELAY_SECRET is required when RELAY_ENV=production');
    if (dataKeys.length === 0) problems.push('RELAY_DATA_KEYS is required when RELAY_ENV=production');
    if (!auditKey) problems.push('AUDIT_KEY is required when RELAY_ENV=production');
  }
  const smtpTls = read<SmtpTls>(
    'SMTP_TLS',
    smtpUrl?.startsWith('smtps:') ? 'implicit' : 'starttls',
    parseSmtpTls,
  );
  problems.push(...smtpTlsProblems(production, smtpTls, smtpUrl));
  if (auditKey && auditKey === secret) problems.push('AUDIT_KEY must differ from RELAY_SECRET');
  const bounces = read<'on' | 'off'>('BOUNCES', 'on', (raw) => (parseOnOff(raw) ? 'on' : 'off'));
  const bounceDomain = read('BOUNCE_DOMAIN', 'localhost', (raw) => raw);
  const bounceSmtpPort = read<number | undefined>('BOUNCE_SMTP_PORT', undefined, parsePort);
  problems.push(...bounceProblems(production, bounces, bounceDomain, bounceSmtpPort));
  const baseUrl = read('BASE_URL', `http://localhost:${port}`, parseBaseUrl);
  // Emailed links are built on it: a default would point every team at localhost.
  if (production && !env.BASE_URL?.trim())
    problems.push(
      'BASE_URL is required when RELAY_ENV=production: the https:// address people reach Relay at',
    );
  // Over http the session cookie cannot be Secure and HSTS cannot be sent: never with real referrals.
  else if (production && !baseUrl.startsWith('https://'))
    problems.push('BASE_URL must be an https:// address when RELAY_ENV=production');
  const mailCatcher = read('MAILCATCHER', false, parseOnOff);
  if (production && mailCatcher) problems.push('MAILCATCHER=on is never allowed when RELAY_ENV=production');
  if (!secret) insecureDefaults.push('RELAY_SECRET');
  if (dataKeys.length === 0) insecureDefaults.push('RELAY_DATA_KEYS');
  if (!auditKey) insecureDefaults.push('AUDIT_KEY');

  // Loopback unless told otherwise: exposing Relay is a decision (docs/operations.md, Security).
  const host = read('HOST', '127.0.0.1', (raw) => raw);
  const config: Config = {
    env: relayEnv,
    mode: read<'live' | 'drill'>('RELAY_MODE', 'live', parseMode),
    databaseUrl: read('DATABASE_URL', 'sqlite:./data/relay.db', parseDatabaseUrl),
    host,
    port,
    baseUrl,
    smtpUrl,
    smtpTls,
    mailFrom: read('MAIL_FROM', 'Safeguard Relay <relay@localhost>', (raw) => raw),
    bounceDomain,
    bounceSmtpPort,
    bounceHost: read('BOUNCE_HOST', host, (raw) => raw),
    metricsPort: read<number | null>('METRICS_PORT', 9464, (raw) => (raw === 'off' ? null : parsePort(raw))),
    drainGraceMs: read('DRAIN_GRACE', production ? 10 * SECOND : 0, parseDuration),
    bounces,
    secret: secret || DEV_SECRET,
    dataKeys: dataKeys.length > 0 ? dataKeys : parseDataKeys(DEV_DATA_KEY),
    auditKey: Buffer.from(auditKey || DEV_AUDIT_KEY, 'utf8'),
    watchdogIntervalMs: read('WATCHDOG_INTERVAL_MS', 15 * SECOND, parsePositiveInteger),
    deadlines: {
      sendByMs: read('SEND_BY', 5 * MINUTE, parseDuration),
      ackBy: {
        immediate: read('ACK_BY_IMMEDIATE', 1 * HOUR, parseDuration),
        urgent: read('ACK_BY_URGENT', 4 * HOUR, parseDuration),
        routine: read<number | 'next-working-day'>('ACK_BY_ROUTINE', 'next-working-day', (raw) =>
          raw === 'next-working-day' ? raw : parseDuration(raw),
        ),
      },
      triageByMs: read('TRIAGE_BY', 30 * MINUTE, parseDuration),
      reminderBeforeMs: read('REMINDER_BEFORE', 15 * MINUTE, parseDuration),
    },
    retryWindowMs: read('RETRY_WINDOW', 24 * HOUR, parseDuration),
    // Eight years (2922 days) by default; the organisation's records policy decides the real figure.
    retentionPeriodMs: read('RETENTION_PERIOD', 2922 * DAY, parsePositiveDuration),
    delivery: {
      concurrency: read('DISPATCH_CONCURRENCY', 64, parsePositiveInteger),
      smtpPoolSize: read('SMTP_POOL_SIZE', 10, parsePositiveInteger),
      timeoutMs: read('SEND_TIMEOUT', 30 * SECOND, parseDuration),
      leaseMs: read('DELIVERY_LEASE', 2 * MINUTE, parseDuration),
      pollIntervalMs: read('DISPATCH_POLL', 1 * SECOND, parseDuration),
      webhookAllowPrivate: read('WEBHOOK_ALLOW_PRIVATE', false, parseOnOff),
    },
    assurance: {
      testAlertIntervalMs: read<number | null>('TEST_ALERT_INTERVAL', 7 * DAY, (raw) =>
        raw === 'off' ? null : parseDuration(raw),
      ),
      safeguardingEmail: read<string | undefined>('SAFEGUARDING_EMAIL', undefined, parseEmail),
      dailySummaryAt: read('DAILY_SUMMARY_AT', '07:00', parseTimeOfDay),
      volumeMinAverage: read('VOLUME_MIN_AVERAGE', 5, parseNonNegativeNumber),
      volumeDropRatio: read('VOLUME_DROP_RATIO', 0.5, parseRatio),
    },
    liveness: {
      heartbeatUrl: read<string | undefined>('HEARTBEAT_URL', undefined, parseHeartbeatUrl),
      maxClockSkewMs: read<number | null>('MAX_CLOCK_SKEW', 30 * SECOND, (raw) =>
        raw === 'off' ? null : parsePositiveDuration(raw),
      ),
    },
    escalation: readEscalationConfig(read, problems),
    mailCatcherPort: read('MAILCATCHER_PORT', 1025, parsePort),
    mailCatcher,
    signInRateLimit: read('SIGN_IN_RATE_LIMIT', 10, parsePositiveInteger),
    apiKeyCacheMs: read('API_KEY_CACHE', 5 * SECOND, parseDuration),
    sessionMaxAgeMs: read('SESSION_MAX_AGE', 12 * HOUR, parsePositiveDuration),
    localSignIn: read('LOCAL_SIGN_IN', true, parseOnOff),
    mfaLocal: read<MfaLocal>('MFA_LOCAL', production ? 'required' : 'optional', parseMfaLocal),
    oidc: readOidcConfig(env, production, problems),
    mesh: readMeshConfig(env, production, problems),
    trustProxy: read<string | undefined>('TRUST_PROXY', undefined, (raw) => raw),
    logLevel: read('LOG_LEVEL', relayEnv === 'test' ? 'silent' : 'info', (raw) => raw),
    insecureDefaults,
  };
  if (!config.localSignIn && config.oidc.providers.length === 0)
    problems.push(
      'LOCAL_SIGN_IN=off needs an identity provider (OIDC_ISSUER or OIDC_PROVIDERS), or nobody can sign in',
    );
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(config);
}

type Reader = <T>(name: string, fallback: T, parse: (raw: string) => T) => T;

function readEscalationConfig(read: Reader, problems: string[]): EscalationConfig {
  const pagerWebhookUrl = read<string | undefined>('PAGER_WEBHOOK_URL', undefined, parseBaseUrl);
  const pagerWebhookSecret = read<string | undefined>('PAGER_WEBHOOK_SECRET', undefined, parseSecret);
  // An unsigned page could be forged by anyone who can reach the gateway, so the secret is required.
  if (pagerWebhookUrl && !pagerWebhookSecret)
    problems.push('PAGER_WEBHOOK_SECRET is required when PAGER_WEBHOOK_URL is set');
  return {
    claimByMs: read('ESCALATION_CLAIM_BY', 15 * MINUTE, parsePositiveDuration),
    claimTtlMs: read('ESCALATION_CLAIM_TTL', 2 * HOUR, parsePositiveDuration),
    reopenAfterMs: read('ESCALATION_REOPEN_AFTER', 1 * HOUR, parseReopenAfter),
    ladder: read<string[]>('ESCALATION_LADDER', [], parseEmailList),
    pagerWebhookUrl,
    pagerWebhookSecret,
  };
}

/** A follow-up is at most a day away: a resolution must not put the watch to sleep for longer. */
function parseReopenAfter(raw: string): number {
  const ms = parsePositiveDuration(raw);
  if (ms > DAY) throw new Error('must be at most 24h');
  return ms;
}

function parseEmailList(raw: string): string[] {
  const addresses = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const a of addresses) {
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(a)) throw new Error(`"${a}" is not one email address`);
  }
  return addresses.map((a) => a.toLowerCase());
}

/**
 * A bounce that arrives after the SMTP conversation (a full mailbox, a leaver's address) is the only
 * word that a referral did not arrive, so production must be listening for it, on a domain that
 * mail can reach, or say with BOUNCES=off that it is not.
 */
function bounceProblems(
  production: boolean,
  bounces: 'on' | 'off',
  domain: string,
  port: number | undefined,
): string[] {
  if (bounces === 'off') {
    return port === undefined
      ? []
      : ['BOUNCES=off and BOUNCE_SMTP_PORT contradict each other: unset one of them'];
  }
  if (!production) return [];
  const problems: string[] = [];
  if (port === undefined)
    problems.push(
      'BOUNCE_SMTP_PORT is required when RELAY_ENV=production, or late bounces are lost (BOUNCES=off runs without them, and /readyz says so)',
    );
  if (domain === 'localhost')
    problems.push(
      'BOUNCE_DOMAIN must be a domain whose mail reaches BOUNCE_SMTP_PORT, not localhost, when RELAY_ENV=production (or set BOUNCES=off)',
    );
  return problems;
}

function parseMode(raw: string): 'live' | 'drill' {
  if (raw === 'live' || raw === 'drill') return raw;
  throw new Error('must be live or drill');
}

function parseSmtpTls(raw: string): SmtpTls {
  if (raw === 'starttls' || raw === 'implicit' || raw === 'off') return raw;
  throw new Error('must be starttls, implicit or off');
}

/** Referrals carry personal data: in production they never cross the network in clear. */
function smtpTlsProblems(production: boolean, tls: SmtpTls, smtpUrl: string | undefined): string[] {
  if (production && tls === 'off') return ['SMTP_TLS=off is never allowed when RELAY_ENV=production'];
  if (smtpUrl?.startsWith('smtps:') && tls !== 'implicit')
    return [`SMTP_TLS=${tls} contradicts an smtps:// SMTP_URL (which is implicit TLS)`];
  return [];
}

/** Any string of 32 characters or more (e.g. `openssl rand -base64 32`); its UTF-8 bytes are the key. */
function parseAuditKey(raw: string): string {
  if (raw.length < 32) throw new Error('must be at least 32 characters (e.g. openssl rand -base64 32)');
  return raw;
}

function parseMfaLocal(raw: string): MfaLocal {
  if (raw === 'required' || raw === 'optional') return raw;
  throw new Error('must be required or optional');
}

function parseRelayEnv(raw: string): RelayEnv {
  if (raw === 'development' || raw === 'test' || raw === 'production') return raw;
  throw new Error('must be development, test or production');
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('must be a port number');
  return port;
}

function parseOnOff(raw: string): boolean {
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new Error('must be on or off');
}

function parsePositiveInteger(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error('must be a positive whole number');
  return n;
}

/** Zero would purge every referral the moment it closes, so it is refused rather than obeyed. */
function parsePositiveDuration(raw: string): number {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new Error('must be longer than zero');
  return ms;
}

function parseEmail(raw: string): string {
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(raw)) throw new Error('must be one email address');
  return raw;
}

function parseTimeOfDay(raw: string): string {
  if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(raw)) throw new Error('must be a time HH:MM (London)');
  return raw;
}

function parseNonNegativeNumber(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error('must be a number, 0 or more');
  return n;
}

function parseRatio(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new Error('must be a number above 0 and at most 1');
  return n;
}

function parseSecret(raw: string): string {
  if (raw.length < 32) throw new Error('must be at least 32 characters');
  return raw;
}

function parseSmtpUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error('must start smtp:// or smtps://');
  return raw;
}

function parseBaseUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
  return raw.replace(/\/+$/, '');
}

function parseHeartbeatUrl(raw: string): string {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('must be an http(s) URL');
  return raw;
}

function parseDatabaseUrl(raw: string): string {
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) return raw;
  if (raw.startsWith('sqlite:')) return raw;
  throw new Error('must start sqlite: or postgres://');
}

/** `id:base64` pairs, comma-separated; each key must be 32 bytes for AES-256-GCM. */
export function parseDataKeys(raw: string): DataKey[] {
  const keys = raw
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf(':');
      const id = pair.slice(0, at);
      const key = Buffer.from(pair.slice(at + 1), 'base64');
      if (at < 1 || key.length !== 32) throw new Error(`key "${id || '?'}" must be id:base64 of 32 bytes`);
      return { id, key };
    });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('key ids must be unique');
  return keys;
}

/** The path of the SQLite file for a `sqlite:` URL (`sqlite::memory:` stays in memory). */
export function sqlitePath(databaseUrl: string): string {
  const path = databaseUrl.slice('sqlite:'.length);
  return path === ':memory:' ? path : resolve(path);
}

/** Object.freeze is shallow: freezing all the way down means no caller can shift a deadline at run time. */
function deepFreeze<T>(value: T): T {
  // A Buffer (a data key) cannot be frozen; the object holding it is.
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
