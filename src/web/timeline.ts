/**
 * A referral's timeline as people read it: who (a person's name, role and team, never `user:<uuid>`)
 * and one sentence per event, instead of the event's code and raw JSON. The details hold ids,
 * states and reasons, never personal data; a kind this file does not know is shown by its name and
 * its detail as plain "key: value" text (the template escapes it).
 */
import type { RelayContext } from '../context.ts';
import type { StatusDocument } from '../referrals/referral.document.schema.ts';
import { OUTCOME_LABELS, ACK_METHOD_LABELS } from './crew/referral-form.fields.ts';
import { deliveryState, escalationReason, triageReason } from './safeguarding/labels.ts';

type Event = StatusDocument['timeline'][number];
type Detail = Record<string, unknown>;

export interface TimelineLine {
  at: string;
  who: string;
  what: string;
  /** Only for an event this file has no sentence for. */
  detail?: string;
}

export interface TimelineNames {
  teamName(id: string): string;
}

const ROLE_WORDS: Record<string, string> = {
  crew: 'ambulance crew',
  safeguarding: 'safeguarding team',
  recipient: 'receiving team',
  admin: 'administrator',
  auditor: 'auditor',
};

const FIXED_ACTORS: Record<string, string> = {
  system: 'Relay',
  watchdog: 'Relay (deadline watchdog)',
  'bounce-listener': 'Relay (bounce report)',
  cli: 'Relay command line',
};

const CHANNEL_WORDS: Record<string, string> = { email: 'Email', webhook: 'Webhook', mesh: 'MESH' };

const text = (detail: Detail, key: string): string | undefined =>
  typeof detail[key] === 'string' && detail[key] !== '' ? detail[key] : undefined;

/** Each sentence builder gets the event's detail; undefined means "no sentence: show it raw". */
type Sentence = (detail: Detail, names: TimelineNames, doc: StatusDocument) => string | undefined;

function teamList(detail: Detail, names: TimelineNames): string {
  const routes = Array.isArray(detail.routes) ? (detail.routes as Detail[]) : [];
  const teams = routes.map((r) => (typeof r.team === 'string' ? names.teamName(r.team) : undefined));
  return teams.filter((t) => t !== undefined).join(', ') || 'no team';
}

function deliverySentence(state: string): Sentence {
  return (detail, names, doc) => {
    const delivery = doc.deliveries.find((d) => d.id === detail.delivery);
    const to = delivery
      ? `${CHANNEL_WORDS[delivery.channel] ?? delivery.channel} to ${names.teamName(delivery.team)}`
      : 'Message';
    return `${to}: ${deliveryState(state).toLowerCase()}`;
  };
}

const SENTENCES: Record<string, Sentence> = {
  received: () => 'Referral received',
  triage: (d) => `Put in the triage queue: ${triageReason(text(d, 'reason') ?? '').toLowerCase()}`,
  routed: (d, names) => `${text(d, 'by') ? 'Routed by hand' : 'Routed'} to ${teamList(d, names)}`,
  acknowledged: (d, names) => {
    const method = text(d, 'method');
    const how = method ? ` ${ACK_METHOD_LABELS[method] ?? method}` : '';
    return `Acknowledged for ${names.teamName(text(d, 'team') ?? '')}${how}`;
  },
  'outcome-recorded': (d, names) => {
    const outcome = text(d, 'outcome') ?? '';
    return `${names.teamName(text(d, 'team') ?? '')} recorded the outcome: ${OUTCOME_LABELS[outcome] ?? outcome}`;
  },
  redirected: (d, names) =>
    `Redirected from ${names.teamName(text(d, 'from') ?? '')} to ${names.teamName(text(d, 'to') ?? '')}` +
    (text(d, 'outOfHours')
      ? `, and to ${names.teamName(text(d, 'outOfHours') ?? '')} while it is closed`
      : ''),
  escalated: (d, names) =>
    `Escalated: ${escalationReason(text(d, 'reason') ?? '')}` +
    (text(d, 'team') ? ` (${names.teamName(text(d, 'team') ?? '')})` : ''),
  'escalation-claim-lapsed': () => 'Nobody worked a claimed escalation in time: it is being chased again',
  // `how` is written in words where the referral is closed by hand ("handed off to …, by phone").
  closed: (d) =>
    text(d, 'how') ? `Closed: ${text(d, 'how')}` : 'Closed: every team has recorded its outcome',
  'personal-data-removed': () => 'Personal data removed under the retention policy',
};

/** "key: value" pairs of a detail no sentence describes; nested values as JSON text, escaped by the page. */
function plainDetail(detail: Detail): string {
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join('; ');
}

function sentenceFor(
  event: Event,
  names: TimelineNames,
  doc: StatusDocument,
): Pick<TimelineLine, 'what' | 'detail'> {
  const delivery = /^delivery-(.+)$/.exec(event.kind)?.[1];
  const sentence = delivery ? deliverySentence(delivery) : SENTENCES[event.kind];
  const what = sentence?.(event.detail, names, doc);
  if (what !== undefined) return { what };
  const kind = event.kind.replace(/[-.]/g, ' ');
  return {
    what: kind.charAt(0).toUpperCase() + kind.slice(1),
    detail: plainDetail(event.detail) || undefined,
  };
}

interface Person {
  name: string;
  roles: string[];
  teams: string[];
}

/** The people and API keys the timeline names, in two queries. */
async function actorsOf(ctx: RelayContext, timeline: Event[]) {
  const ids = (prefix: string) => [
    ...new Set(timeline.filter((e) => e.actor.startsWith(prefix)).map((e) => e.actor.slice(prefix.length))),
  ];
  const userIds = ids('user:');
  const keyIds = ids('apikey:');
  const db = ctx.db.kysely;
  const [users, keys] = await Promise.all([
    userIds.length
      ? db.selectFrom('users').select(['id', 'name', 'roles', 'teams']).where('id', 'in', userIds).execute()
      : [],
    keyIds.length ? db.selectFrom('api_keys').select(['id', 'name']).where('id', 'in', keyIds).execute() : [],
  ]);
  const people = new Map<string, Person>(
    users.map((u) => [
      u.id,
      { name: u.name, roles: JSON.parse(u.roles) as string[], teams: JSON.parse(u.teams) as string[] },
    ]),
  );
  return { people, keys: new Map(keys.map((k) => [k.id, k.name])) };
}

function personWords(person: Person, names: TimelineNames): string {
  const roles = person.roles.map((r) => ROLE_WORDS[r] ?? r);
  const teams = person.teams.map((t) => names.teamName(t));
  return `${person.name} (${[...roles, ...teams].join(', ')})`;
}

/** The timeline of a status document as lines for the pages' timeline table. */
export async function readableTimeline(
  ctx: RelayContext,
  doc: StatusDocument,
  names: TimelineNames,
): Promise<TimelineLine[]> {
  const { people, keys } = await actorsOf(ctx, doc.timeline);
  const who = (actor: string): string => {
    const [kind, id = ''] = actor.split(/:(.*)/s);
    if (kind === 'user') {
      const person = people.get(id);
      return person ? personWords(person, names) : 'A person no longer in Relay';
    }
    if (kind === 'apikey') return `${keys.get(id) ?? 'A revoked system'} (connected system)`;
    if (kind === 'worker') return 'Relay (sending)';
    return FIXED_ACTORS[actor] ?? actor;
  };
  return doc.timeline.map((event) => ({
    at: event.at,
    who: who(event.actor),
    ...sentenceFor(event, names, doc),
  }));
}
