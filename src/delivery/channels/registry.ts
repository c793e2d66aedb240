import type { Team } from '../../directory/directory.types.ts';
import type { Channel, Purpose } from '../../db/codes.ts';
import type { DeliveryChannel } from './channel.ts';
import { email } from './email.ts';
import { webhook } from './webhook.ts';

/**
 * Every channel by its code, the way graphile-worker looks a task up by its identifier: the
 * dispatcher sends with `channels[delivery.channel]`. A code without an entry does not compile.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each channel has its own message form
export const channels: { readonly [C in Channel]: DeliveryChannel<any> } = { email, webhook };

export interface Target {
  channel: Channel;
  address: string;
}

/**
 * Where a team gets a message for this purpose, in the order of its directory entries. Each entry's
 * kind is a channel code, so a kind the directory allows without a channel here does not compile.
 */
export function targetsOf(team: Team, purpose: Purpose): Target[] {
  return team.channels.flatMap((entry) =>
    channels[entry.kind]
      .addresses({ ...team, channels: [entry] }, purpose)
      .map((address) => ({ channel: entry.kind, address })),
  );
}
