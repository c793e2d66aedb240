import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.ts';
import type { RelayContext } from '../context.ts';
import { ThreadedEmailChannel } from '../delivery/channels/email.thread.ts';
import { Dispatcher } from '../delivery/dispatcher.ts';
import { startBounceListener } from '../delivery/bounce/bounce.listener.ts';
import { latestVersion } from '../directory/directory.repository.ts';
import { startMailCatcher, type MailCatcher } from '../mailcatcher/mailcatcher.ts';
import { seedDemo } from './demo.ts';
import { Watchdog } from '../assurance/watchdog.runner.ts';
import { assuranceJobs } from '../assurance/jobs/jobs.ts';
import { nodeId, recordHeartbeat } from '../assurance/heartbeat.ts';
import { startNotifications, type Notifications } from '../cluster/notify.ts';
import { startProbeServer, type ProbeServer } from '../assurance/probes.ts';
import { whoIsOnCall } from '../assurance/oncall/oncall.service.ts';
import { createLogger, type RelayLogger } from '../http/logger.ts';

export type Role = 'web' | 'worker' | 'all';

export interface StartOptions {
  demo: boolean;
  role: Role;
}

interface Running {
  app: FastifyInstance;
  email: ThreadedEmailChannel;
  dispatcher: Dispatcher | undefined;
  watchdog: Watchdog | undefined;
  mailCatcher: MailCatcher | undefined;
  bounces: { close(): Promise<void> } | undefined;
  notifications: Notifications;
  /** A worker's own /healthz, /readyz and /metrics (METRICS_PORT). */
  probes: ProbeServer | undefined;
}

/**
 * Runs Relay until SIGTERM or SIGINT, then drains: HTTP answers 503, sends in flight finish, then it exits.
 * Everything it says on standard output is a JSON log line; only the demo's keys and passwords, for
 * the person who asked for them, go to standard error as text.
 */
export async function start(ctx: RelayContext, options: StartOptions): Promise<void> {
  const log = createLogger(ctx.config.logLevel);
  if (options.demo) for (const line of (await seedDemo(ctx)) ?? []) process.stderr.write(`${line}\n`);
  if (options.demo && ctx.config.assurance.testAlertIntervalMs === null) {
    log.info('Demo: scheduled test alerts are off (set TEST_ALERT_INTERVAL to turn them on).');
  }
  await checkSomeoneToTell(ctx, log);
  warnAboutSetup(ctx, log, await latestVersion(ctx.db.kysely));
  const running = await launch(ctx, options, log);
  logRunning(ctx, log, options.role, running.probes);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = options.role === 'worker' ? 0 : ctx.config.drainGraceMs;
    log.info({ signal, graceMs }, `${signal} received: ${drainLine(ctx, graceMs)}`);
    ctx.lifecycle.draining = true;
    // The load balancer's grace and the sends' drain run side by side: the stop takes the longer.
    await Promise.all([stopWork(running, log), new Promise((resolve) => setTimeout(resolve, graceMs))]);
    await running.notifications.stop();
    await running.bounces?.close();
    await running.app.close();
    await running.probes?.close();
    running.email.close();
    await running.mailCatcher?.close();
    await ctx.db.close();
    log.info('Stopped.');
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** The watchdog gives its lease up; the dispatcher releases what it had not started and finishes the rest. */
async function stopWork(running: Running, log: RelayLogger): Promise<void> {
  await running.watchdog?.stop();
  const drained = await running.dispatcher?.stop();
  if (drained)
    log.info(
      { released: drained.released, unfinished: drained.unfinished },
      `Sends: ${drained.released} released to other workers, ${drained.unfinished} left unanswered.`,
    );
}

/** What this node serves, truthfully: a worker has no pages, only its probes (or nothing). */
function logRunning(ctx: RelayContext, log: RelayLogger, role: Role, probes: ProbeServer | undefined): void {
  if (role !== 'worker') {
    log.info(
      { role, url: ctx.config.baseUrl },
      `Safeguard Relay (${role}) is running at ${ctx.config.baseUrl}`,
    );
    return;
  }
  const probesAt = probes
    ? `/healthz, /readyz and /metrics at ${probes.url}`
    : 'nothing listens for HTTP (METRICS_PORT=off)';
  log.info(
    { role, probes: probes?.url ?? null },
    `Safeguard Relay (worker) is running: no web pages or API on this node; ${probesAt}`,
  );
}

function drainLine(ctx: RelayContext, graceMs: number): string {
  const sendS = ctx.config.delivery.timeoutMs / 1000;
  const grace = graceMs > 0 ? `answering 503 for ${graceMs / 1000} s (DRAIN_GRACE), ` : '';
  return `${grace}releasing unstarted sends and finishing those in flight (at most ${sendS} s, SEND_TIMEOUT), then stopping.`;
}

/**
 * The catcher keeps every email it receives, referrals included, so it runs only when asked for:
 * `--demo` or MAILCATCHER=on, and never in production (which requires SMTP_URL anyway).
 */
function wantsMailCatcher(ctx: RelayContext, options: StartOptions): boolean {
  if (ctx.config.smtpUrl) return false;
  if (ctx.config.env === 'production') throw new Error('SMTP_URL is required when RELAY_ENV=production');
  if (options.demo || ctx.config.mailCatcher) return true;
  throw new Error(
    'SMTP_URL is not set: set it to your mail relay, or run `relay start --demo` (or MAILCATCHER=on) to catch emails in the built-in mail catcher',
  );
}

async function launch(ctx: RelayContext, options: StartOptions, log: RelayLogger): Promise<Running> {
  const role = options.role;
  let mailCatcher: MailCatcher | undefined;
  if (wantsMailCatcher(ctx, options)) {
    mailCatcher = await startMailCatcher(ctx, ctx.config.mailCatcherPort);
    log.warn(
      `WARNING: SMTP_URL is not set. Emails go to the built-in mail catcher (${mailCatcher.smtpUrl}) ` +
        `and NOTHING LEAVES THIS MACHINE. Read them in the Mailbox: ${ctx.config.baseUrl}/mailbox (signed in).`,
    );
  }
  const app = buildApp(ctx, { mailCatcher: mailCatcher !== undefined, logger: log });
  // SMTP on its own thread, so building and sending emails never holds up intake or the database.
  const email = new ThreadedEmailChannel({
    smtpUrl: ctx.config.smtpUrl ?? (mailCatcher as MailCatcher).smtpUrl,
    poolSize: ctx.config.delivery.smtpPoolSize,
    timeoutMs: ctx.config.delivery.timeoutMs,
    // The built-in catcher listens on this machine, in clear.
    tls: mailCatcher ? 'off' : ctx.config.smtpTls,
  });
  let dispatcher: Dispatcher | undefined;
  let watchdog: Watchdog | undefined;
  if (role !== 'web') {
    dispatcher = new Dispatcher(ctx, {
      transports: { email },
      logger: app.log,
      onPass: heartbeatEvery(ctx, 'dispatcher'),
    });
    dispatcher.start();
    // Test alerts, volume and silence checks, manifests and the daily summary run after each sweep.
    watchdog = new Watchdog(ctx, app.log, assuranceJobs(email));
    watchdog.start();
    // Beat once before serving, so /readyz is truthful from the first request.
    await recordHeartbeat(ctx, 'dispatcher', nodeId());
    await recordHeartbeat(ctx, 'watchdog', watchdog.node);
    // Readiness needs a completed sweep in the cluster: a worker serves (and says it is running)
    // once its first run is over, so a new installation is ready from the first request.
    await watchdog.firstRun;
  }
  // Bounces are background work: a web-only node leaves them to the workers.
  const bounces =
    role !== 'web' && ctx.config.bounceSmtpPort !== undefined
      ? await startBounceListener(ctx, {
          port: ctx.config.bounceSmtpPort,
          host: ctx.config.bounceHost,
          logger: app.log,
        })
      : undefined;
  // On PostgreSQL every node announces queued deliveries; worker nodes also listen for them.
  const notifications = startNotifications(ctx, {
    logger: app.log,
    ...(dispatcher ? { wake: () => dispatcher.nudge() } : {}),
  });
  if (role !== 'worker') await app.listen({ host: ctx.config.host, port: ctx.config.port });
  const probes =
    role === 'worker' && ctx.config.metricsPort !== null
      ? await startProbeServer(ctx, { host: ctx.config.host, port: ctx.config.metricsPort, logger: app.log })
      : undefined;
  return { app, email, dispatcher, watchdog, mailCatcher, bounces, notifications, probes };
}

/**
 * The dispatcher passes often; its heartbeat is written at most a few times per watchdog interval.
 * Returns the write (never rejecting) when one was made, so tests can wait for it.
 */
export function heartbeatEvery(ctx: RelayContext, component: 'dispatcher'): () => Promise<void> | undefined {
  const node = nodeId();
  let last = 0;
  return () => {
    const now = ctx.clock.now().getTime();
    if (now - last < ctx.config.watchdogIntervalMs / 3) return undefined;
    last = now;
    return recordHeartbeat(ctx, component, node).catch(() => undefined);
  };
}

/**
 * Escalations are pushed to the person on call, or SAFEGUARDING_EMAIL when the rota has a gap. In
 * production, starting with neither would detect problems and tell nobody, so it refuses.
 */
async function checkSomeoneToTell(ctx: RelayContext, log: RelayLogger): Promise<void> {
  if (await whoIsOnCall(ctx, ctx.clock.now())) return;
  const reason =
    'nobody to tell about escalations: nobody is on call now and SAFEGUARDING_EMAIL is not set ' +
    '(set SAFEGUARDING_EMAIL, or put someone on call with `relay oncall set`)';
  if (ctx.config.env === 'production') throw new Error(reason);
  log.warn(`WARNING: ${reason}.`);
}

function warnAboutSetup(ctx: RelayContext, log: RelayLogger, directory: unknown): void {
  for (const name of ctx.config.insecureDefaults) {
    log.warn(
      `WARNING: ${name} is not set; using a development-only value. Never do this with real referrals.`,
    );
  }
  if (!directory) {
    log.warn(
      'WARNING: no directory is loaded, so every referral will wait in triage. Run `relay directory import FILE`.',
    );
  }
}
