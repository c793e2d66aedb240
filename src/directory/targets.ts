import type { Channel, Purpose } from '../db/codes.ts';
import { channelAddress, type Team } from './directory.types.ts';

export interface Target {
  channel: Channel;
  address: string;
}

/**
 * Which of a team's entries on one channel get a message for a purpose. This is a reading of the
 * directory, so it lives here, where intake (which queues the referral), the watchdog (reminders
 * and alerts) and test alerts all ask it; how a channel then composes and sends is delivery's.
 * A channel code without a rule here does not compile.
 */
const RULES: { readonly [C in Channel]: (team: Team, purpose: Purpose) => string[] } = {
  // Every purpose goes by email: the primary address gets the referral and its reminder, the
  // secondary address the deadline alert, and test alerts prove every address.
  email(team, purpose) {
    if (purpose === 'test-alert')
      return team.channels.flatMap((c) => (c.kind === 'email' ? [c.address] : []));
    const role = purpose === 'alert-secondary' ? 'secondary' : 'primary';
    const addresses = team.channels.flatMap((c) =>
      c.kind === 'email' && c.role === role ? [c.address] : [],
    );
    // The directory allows one primary; a follow-up goes to the first secondary, not to every one.
    return purpose === 'referral' ? addresses : addresses.slice(0, 1);
  },
  // Reminders and deadline alerts are email-only, by decision: they ask a person to act on a
  // referral the team's system already holds, and the team's email addresses are where its people
  // are. So a webhook is addressed for the referral and its test alerts only.
  webhook(team, purpose) {
    if (purpose !== 'referral' && purpose !== 'test-alert') return [];
    return team.channels.flatMap((c) => (c.kind === 'webhook' ? [c.url] : []));
  },
  // As a webhook, for the same reason: a MESH mailbox is read by the team's system, not a person.
  mesh(team, purpose) {
    if (purpose !== 'referral' && purpose !== 'test-alert') return [];
    return team.channels.flatMap((c) => (c.kind === 'mesh' ? [c.mailbox] : []));
  },
};

/** Where a team gets a message for this purpose, in the order of its directory entries. */
export function targetsOf(team: Team, purpose: Purpose): Target[] {
  const chosen = new Map<Channel, Set<string>>();
  const on = (channel: Channel) => {
    let found = chosen.get(channel);
    if (!found) chosen.set(channel, (found = new Set(RULES[channel](team, purpose))));
    return found;
  };
  return team.channels.flatMap((entry) => {
    const address = channelAddress(entry);
    return on(entry.kind).has(address) ? [{ channel: entry.kind, address }] : [];
  });
}
