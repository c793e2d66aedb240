import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import PgBoss from 'pg-boss';
import { benchMail, pooledTransport } from './mail.ts';
import { adminQuery, PG_URL } from './relay.ts';

export type PeerKind = 'bullmq' | 'pg-boss';

export interface Peer {
  name: string;
  baseUrl: string;
  close(): Promise<void>;
}

interface MailJob {
  id: string;
}

/**
 * The queue people would use instead: an HTTP endpoint that takes the same referral JSON and
 * enqueues a job, and a worker that sends it with a pooled Nodemailer transport (5 connections).
 * Each is set up as its documentation recommends: BullMQ a Worker with `concurrency` and retries
 * with exponential back-off; pg-boss `work()` with a batch and its shortest polling interval.
 */
export async function startPeer(
  kind: PeerKind,
  smtpUrl: string,
  options: { timeoutMs?: number } = {},
): Promise<Peer> {
  const redisPrefix = `bench-${randomUUID().slice(0, 8)}`;
  const transport = pooledTransport(smtpUrl, 5, options.timeoutMs);
  const send = async (job: MailJob) => {
    await transport.sendMail(benchMail(job.id));
  };
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
  let stop: () => Promise<void>;
  if (kind === 'bullmq') {
    const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
    const queue = new Queue<MailJob>('referral-email', { connection, prefix: redisPrefix });
    const worker = new Worker<MailJob>('referral-email', async (job) => send(job.data), {
      connection,
      prefix: redisPrefix,
      concurrency: 16,
    });
    worker.on('error', () => undefined);
    registerIntake(app, async (id) => {
      await queue.add(
        'send',
        { id },
        { jobId: id, attempts: 20, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000 },
      );
    });
    stop = async () => {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    };
  } else {
    const schema = `pgboss_${randomUUID().slice(0, 8)}`;
    const boss = new PgBoss({ connectionString: PG_URL, schema, max: 10 });
    boss.on('error', () => undefined);
    await boss.start();
    await boss.createQueue('referral-email', {
      name: 'referral-email',
      retryLimit: 20,
      retryBackoff: true,
      retryDelay: 1,
    });
    // Four workers, each fetching up to 16 jobs a poll: pg-boss's way to concurrency.
    for (let w = 0; w < 4; w++) {
      await boss.work<MailJob>(
        'referral-email',
        { batchSize: 16, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          await Promise.all(jobs.map((job) => send(job.data)));
        },
      );
    }
    registerIntake(app, async (id) => {
      await boss.send('referral-email', { id }, { id });
    });
    stop = async () => {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => undefined);
      await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    };
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    name: kind === 'bullmq' ? 'BullMQ (Redis) + Nodemailer' : 'pg-boss (PostgreSQL) + Nodemailer',
    baseUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await stop();
      transport.close();
    },
  };
}

function registerIntake(app: FastifyInstance, enqueue: (id: string) => Promise<void>): void {
  app.post('/referrals', async (request, reply) => {
    if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send();
    const id = randomUUID();
    await enqueue(id);
    return reply.code(201).send({ id });
  });
}
