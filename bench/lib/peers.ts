import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { OutgoingEmail } from '../../src/delivery/channels/email.channel.ts';
import { ThreadedEmailChannel } from '../../src/delivery/channels/email.thread.ts';
import { benchMail } from './mail.ts';
import { adminQuery, PG_URL } from './relay.ts';

export type PeerKind = 'bullmq' | 'pg-boss';

export const PEER_NAMES: Record<PeerKind, string> = {
  bullmq: 'BullMQ (Redis) + Nodemailer',
  'pg-boss': 'pg-boss (PostgreSQL) + Nodemailer',
};

const QUEUE = 'referral-email';

export interface Peer {
  name: string;
  baseUrl: string;
  close(): Promise<void>;
}

export interface PeerOptions {
  /** SMTP connection, greeting and socket time-out. */
  timeoutMs?: number;
  /** HTTP port of the enqueue endpoint; a free one when absent. */
  port?: number;
  /** BullMQ's Redis; the shared 127.0.0.1:6379 when absent. */
  redis?: { host: string; port: number };
  /** pg-boss's PostgreSQL; BENCH_DATABASE_URL (or the shared server) when absent. */
  pgUrl?: string;
  /**
   * The BullMQ key prefix or pg-boss schema. When given, the peer's store outlives the peer (a child
   * process that is killed and started again picks up its own queue); when absent, a fresh one is made
   * and removed on close.
   */
  namespace?: string;
  /**
   * pg-boss: how long a job may stay active before it is failed and retried (its default is 15 minutes)
   * and how often its maintenance looks (default 120 s). The chaos run shortens them as it shortens
   * Relay's lease, so a dead worker's jobs come back within the run.
   */
  expireInSeconds?: number;
  maintenanceIntervalSeconds?: number;
}

interface MailJob {
  id: string;
  /** The referral's source reference, carried into the email (X-Bench-Ref) for the chaos count. */
  ref?: string;
}

/**
 * The queue people would use instead: an HTTP endpoint that takes the same referral JSON and
 * enqueues a job, and a worker that sends it with a pooled Nodemailer transport (10 connections) on
 * a thread of its own (Relay's ThreadedEmailChannel), in one process, as a small service would be deployed. Each is set up as its documentation recommends:
 * BullMQ a Worker with `concurrency` and retries with exponential back-off, error listeners on the
 * worker and the queue; pg-boss `work()` with a batch and its shortest polling interval. The same code
 * runs in the benchmark's process and, for the chaos run, as a child process (peer.main.ts).
 */
export async function startPeer(kind: PeerKind, smtpUrl: string, options: PeerOptions = {}): Promise<Peer> {
  // Relay's own email thread with Relay's default pool (SMTP_POOL_SIZE, 10 connections), so the
  // peers have Relay's thread layout: HTTP, queue and worker on the main thread, MIME and SMTP on another.
  const email = new ThreadedEmailChannel({
    smtpUrl,
    poolSize: 10,
    timeoutMs: options.timeoutMs ?? 30_000,
    tls: 'off',
  });
  const send = async (job: MailJob) => {
    const outcome = await email.send(outgoing(benchMail(job.id, job.ref)));
    // The queue's retry policy decides what happens next, as with Nodemailer's own rejection.
    if (outcome.kind !== 'sent') throw new Error(outcome.detail);
  };
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  const store = kind === 'bullmq' ? await startBullmq(send, options) : await startPgBoss(send, options);
  registerIntake(app, store.enqueue);
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    name: PEER_NAMES[kind],
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await store.stop();
      email.close();
    },
  };
}

/** benchMail's fields as Relay's channel takes them. */
function outgoing(mail: ReturnType<typeof benchMail>): OutgoingEmail {
  return {
    from: mail.from,
    envelopeFrom: mail.envelope.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    headers: mail.headers,
  };
}

interface PeerStore {
  enqueue(job: MailJob): Promise<void>;
  stop(): Promise<void>;
}

async function startBullmq(send: (job: MailJob) => Promise<void>, options: PeerOptions): Promise<PeerStore> {
  const prefix = options.namespace ?? `bench-${randomUUID().slice(0, 8)}`;
  const connection = { ...(options.redis ?? { host: '127.0.0.1', port: 6379 }), maxRetriesPerRequest: null };
  const queue = new Queue<MailJob>(QUEUE, { connection, prefix });
  const worker = new Worker<MailJob>(QUEUE, async (job) => send(job.data), {
    connection,
    prefix,
    // As many sends in flight as Relay's default DISPATCH_CONCURRENCY (and pg-boss's 4 × 16).
    concurrency: 64,
  });
  // BullMQ's advice: listen for errors, or a lost Redis connection is an unhandled 'error' event.
  worker.on('error', () => undefined);
  queue.on('error', () => undefined);
  return {
    enqueue: async (job) => {
      await queue.add('send', job, {
        jobId: job.id,
        attempts: 20,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: 1000,
      });
    },
    stop: async () => {
      await worker.close();
      if (!options.namespace) await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

async function startPgBoss(send: (job: MailJob) => Promise<void>, options: PeerOptions): Promise<PeerStore> {
  const schema = options.namespace ?? `pgboss_${randomUUID().slice(0, 8)}`;
  const boss = new PgBoss({
    connectionString: options.pgUrl ?? PG_URL,
    schema,
    max: 10,
    ...(options.maintenanceIntervalSeconds
      ? { maintenanceIntervalSeconds: options.maintenanceIntervalSeconds }
      : {}),
  });
  boss.on('error', () => undefined);
  await boss.start();
  // createQueue is a no-op for a queue that exists, so a restarted process keeps its jobs.
  await boss.createQueue(QUEUE, {
    name: QUEUE,
    retryLimit: 20,
    retryBackoff: true,
    retryDelay: 1,
    ...(options.expireInSeconds ? { expireInSeconds: options.expireInSeconds } : {}),
  });
  // Four workers, each fetching up to 16 jobs a poll: pg-boss's way to concurrency.
  for (let w = 0; w < 4; w++) {
    await boss.work<MailJob>(QUEUE, { batchSize: 16, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      await Promise.all(jobs.map((job) => send(job.data)));
    });
  }
  return {
    enqueue: async (job) => {
      await boss.send(QUEUE, job, { id: job.id });
    },
    stop: async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => undefined);
      if (!options.namespace)
        await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    },
  };
}

/** Takes the referral JSON, enqueues one job with a new id (no idempotency: a repeat is a new job). */
function registerIntake(app: FastifyInstance, enqueue: (job: MailJob) => Promise<void>): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.post('/referrals', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send();
    const id = randomUUID();
    const ref = (request.body as { source?: { reference?: unknown } }).source?.reference;
    await enqueue({ id, ...(typeof ref === 'string' ? { ref } : {}) });
    return reply.code(201).send({ id });
  });
}

/** Where each job of the peer's queue stands at the end of a chaos run, by source reference. */
export interface PeerJobStates {
  /** References with a job that the library will still run by itself (waiting, delayed, active, retry). */
  pending: Set<string>;
  /** References whose job ended failed (retries spent, or stalled too often): kept, but nobody is told. */
  failed: Set<string>;
}

const BULLMQ_PENDING = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/** Where a peer's queue is kept: the BullMQ prefix or pg-boss schema, and its Redis or PostgreSQL. */
export type PeerStoreAt = Required<Pick<PeerOptions, 'namespace'>> & Pick<PeerOptions, 'redis' | 'pgUrl'>;

/** A BullMQ queue handle on a peer's store, from outside the peer (it must be closed). */
function openQueue(at: PeerStoreAt): Queue<MailJob> {
  const connection = { ...(at.redis ?? { host: '127.0.0.1', port: 6379 }), maxRetriesPerRequest: null };
  const queue = new Queue<MailJob>(QUEUE, { connection, prefix: at.namespace });
  queue.on('error', () => undefined);
  return queue;
}

/** Removes a peer's queue that outlived its process (a namespace was given): BullMQ's keys or pg-boss's schema. */
export async function removePeerStore(kind: PeerKind, at: PeerStoreAt): Promise<void> {
  if (kind === 'pg-boss') return adminQuery(`DROP SCHEMA IF EXISTS ${at.namespace} CASCADE`, at.pgUrl);
  const queue = openQueue(at);
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export async function peerJobStates(kind: PeerKind, at: PeerStoreAt): Promise<PeerJobStates> {
  const pending = new Set<string>();
  const failed = new Set<string>();
  if (kind === 'bullmq') {
    const queue = openQueue(at);
    try {
      for (const job of await queue.getJobs([...BULLMQ_PENDING]))
        if (job?.data.ref) pending.add(job.data.ref);
      for (const job of await queue.getJobs(['failed'])) if (job?.data.ref) failed.add(job.data.ref);
    } finally {
      await queue.close();
    }
  } else {
    const client = new pg.Client({ connectionString: at.pgUrl ?? PG_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ state: string; ref: string | null }>(
        `select state, data->>'ref' as ref from ${at.namespace}.job where name = $1`,
        [QUEUE],
      );
      for (const row of rows) {
        if (!row.ref) continue;
        if (row.state === 'created' || row.state === 'retry' || row.state === 'active') pending.add(row.ref);
        else if (row.state === 'failed') failed.add(row.ref);
      }
    } finally {
      await client.end();
    }
  }
  return { pending, failed };
}
