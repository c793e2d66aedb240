import assert from 'node:assert/strict';
import type { RelayContext } from '../../src/context.ts';
import { EmailChannel } from '../../src/delivery/channels/email.channel.ts';
import { Dispatcher } from '../../src/delivery/dispatcher.ts';
import { raise } from './referrals.ts';
import type { TestRelay } from './relay.ts';
import type { TestSmtpServer } from './smtp.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface MeshDeliveryState {
  state: string;
  provider_message_id: string | null;
  last_error: string | null;
}

/**
 * What the MESH suites do to a relay, over and over: raise a referral to the MESH team, send what is
 * due (through Relay's context or one with other MESH settings) and read the MESH delivery back.
 * The relay and mail server are taken when called, since the suites make them in `before`.
 */
export function meshRig(relay: () => TestRelay, smtp: () => TestSmtpServer) {
  return {
    /** Sends everything due, through `ctx` (Relay's, or one with other MESH settings). */
    async drain(ctx: RelayContext = relay().ctx) {
      const email = new EmailChannel({ smtpUrl: smtp().url, poolSize: 1, timeoutMs: 30_000 });
      try {
        await new Dispatcher(ctx, { transports: { email }, logger: quiet, workerId: 'w1' }).drain();
      } finally {
        email.close();
      }
    },

    /** Relay's context with other MESH settings: the same database, directory and clock. */
    withMesh(mesh: Partial<NonNullable<RelayContext['config']['mesh']>>): RelayContext {
      const { ctx } = relay();
      return { ...ctx, config: { ...ctx.config, mesh: { ...ctx.config.mesh!, ...mesh } } };
    },

    async raiseToMesh(mailbox?: string) {
      const doc = await raise(relay());
      const delivery = doc.deliveries.find((d) => d.channel === 'mesh');
      assert.ok(delivery, 'intake queues a MESH delivery beside the email');
      if (mailbox) assert.equal(delivery.address, mailbox);
      return { doc, deliveryId: delivery.id };
    },

    async deliveryRow(id: string): Promise<MeshDeliveryState> {
      return relay()
        .ctx.db.kysely.selectFrom('deliveries')
        .select(['state', 'provider_message_id', 'last_error'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    },
  };
}
