import type { Channel } from '../../db/codes.ts';
import type { DeliveryChannel } from './channel.ts';
import { email } from './email.ts';
import { mesh } from './mesh.ts';
import { webhook } from './webhook.ts';

/**
 * Every channel by its code, the way graphile-worker looks a task up by its identifier: the
 * dispatcher sends with `channels[delivery.channel]`. A code without an entry does not compile.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each channel has its own message form
export const channels: { readonly [C in Channel]: DeliveryChannel<any> } = { email, webhook, mesh };
