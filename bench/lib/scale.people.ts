import { seeded } from './random.ts';

/**
 * The people the scale seed's referrals are about: what the search index would hold for a region's
 * ten years of safeguarding referrals. Names follow the shape of real surname and given-name counts
 * (a few very common, like Smith at about 1.3 % of people, then a long tail of rare ones), dates of
 * birth cluster in childhood and old age as ambulance safeguarding referrals do, NHS numbers are
 * unique to a person with a valid check digit, and postcodes come from the West Midlands' districts,
 * some much busier than others. One referral in ten is about someone referred before. Everything is
 * a pure function of the referral's number, so the benchmark can search for values it knows exist.
 */

/** Surnames with their approximate share of people in England and Wales, per thousand. */
const COMMON_SURNAMES: [string, number][] = [
  ['Smith', 12.6],
  ['Jones', 7.6],
  ['Williams', 6.4],
  ['Taylor', 5.3],
  ['Brown', 5.2],
  ['Davies', 4.8],
  ['Evans', 3.7],
  ['Khan', 3.5],
  ['Wilson', 3.3],
  ['Thomas', 3.3],
  ['Johnson', 3.1],
  ['Roberts', 3.1],
  ['Singh', 3.0],
  ['Patel', 2.8],
  ['Robinson', 2.6],
  ['Thompson', 2.6],
  ['Wright', 2.5],
  ['Walker', 2.5],
  ['Ali', 2.4],
  ['White', 2.4],
  ['Edwards', 2.4],
  ['Hughes', 2.3],
  ['Green', 2.3],
  ['Hall', 2.3],
  ['Lewis', 2.2],
  ['Harris', 2.2],
  ['Clarke', 2.2],
  ['Jackson', 2.1],
];

const COMMON_GIVEN_NAMES: [string, number][] = [
  ['Margaret', 30],
  ['John', 30],
  ['David', 28],
  ['Mary', 26],
  ['Michael', 24],
  ['Susan', 20],
  ['James', 20],
  ['Patricia', 18],
  ['William', 18],
  ['Jean', 16],
  ['Mohammed', 16],
  ['Elizabeth', 15],
  ['Peter', 15],
  ['Olivia', 12],
  ['Oliver', 12],
  ['Amelia', 11],
  ['Harry', 11],
  ['Barbara', 10],
  ['George', 10],
  ['Jack', 10],
  ['Dorothy', 9],
  ['Muhammad', 9],
  ['Isla', 8],
  ['Noah', 8],
  ['Joan', 8],
  ['Kenneth', 8],
];

/** The long tails: this many made-up names beyond the common ones, ever rarer. */
const RARE_SURNAMES = 40_000;
const RARE_GIVEN_NAMES = 5_000;

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'dor', 'vel', 'sha', 'tin', 'bar', 'wen', 'ly', 'gar'];
const MORE_SYLLABLES = ['fen', 'ros', 'hal', 'mor', 'den', 'ash', 'by', 'ton'];
const ALL_SYLLABLES = [...SYLLABLES, ...MORE_SYLLABLES];

/** A made-up name for a rank in a tail, letters only: 4 syllables give 160,000 distinct names. */
function madeUpName(rank: number): string {
  let name = '';
  let r = rank;
  for (let k = 0; k < 4; k++) {
    name += ALL_SYLLABLES[r % ALL_SYLLABLES.length];
    r = Math.floor(r / ALL_SYLLABLES.length);
  }
  return name[0]?.toUpperCase() + name.slice(1);
}

/** A deterministic pseudo-random stream for one referral, the seed spread so neighbours differ. */
function stream(seed: number): () => number {
  return seeded(seed * 2654435761);
}

/**
 * A rank in a tail of `size` with a share falling as 1/(rank + k): the head of the tail is still far
 * rarer than the least common named entry, its end holds a handful per million.
 */
function tailRank(u: number, size: number, k: number): number {
  return Math.min(size - 1, Math.floor(k * ((size / k + 1) ** u - 1)));
}

/** A name and its rank: the common ones first, most common first, then the tail's. */
function pick(common: [string, number][], u: number, tailSize: number, k: number): [string, number] {
  let acc = 0;
  for (const [rank, [name, perThousand]] of common.entries()) {
    acc += perThousand / 1000;
    if (u < acc) return [name, rank];
  }
  const rank = tailRank((u - acc) / (1 - acc), tailSize, k);
  return ['', common.length + rank];
}

const DISTRICTS = [
  ...Array.from({ length: 98 }, (_, k) => `B${k + 1}`),
  ...Array.from({ length: 12 }, (_, k) => `CV${k + 1}`),
  ...Array.from({ length: 15 }, (_, k) => `WS${k + 1}`),
  ...Array.from({ length: 16 }, (_, k) => `WV${k + 1}`),
  ...Array.from({ length: 14 }, (_, k) => `DY${k + 1}`),
];
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

function postcode(next: () => number): string {
  const district = DISTRICTS[tailRank(next(), DISTRICTS.length, 20)] as string;
  const n = Math.floor(next() * 400);
  const inward = `${n % 10}${INWARD_LETTERS[Math.floor(n / 10) % 20]}${INWARD_LETTERS[Math.floor(n / 200) + 3]}`;
  return `${district} ${inward}`;
}

/** Nine digits from the person's number, then the modulus 11 check digit (skipping numbers without one). */
function nhsNumber(person: number): string {
  for (let base = 400_000_000 + ((person * 7919) % 590_000_000); ; base++) {
    const digits = String(base).split('').map(Number);
    const sum = digits.reduce((s, d, k) => s + d * (10 - k), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return `${base}${check}`;
  }
}

/** Ages at referral: children a third, working-age adults a quarter, older people the rest. */
function dateOfBirth(next: () => number, receivedMs: number): string {
  const u = next();
  const years = u < 0.35 ? next() * 18 : u < 0.6 ? 18 + next() * 47 : 65 + next() * 35;
  return new Date(receivedMs - years * 365.25 * 86_400_000).toISOString().slice(0, 10);
}

/** One referral in ten is about the person of a referral received 1,001 referrals (about 3.5 days) earlier. */
export function personOf(i: number): number {
  return i % 10 === 3 ? i + 1001 : i;
}

export interface SeedPerson {
  /** How common the surname is: 0 for Smith, higher for rarer ones. */
  surnameRank: number;
  subject: {
    givenName: string;
    familyName: string;
    dateOfBirth: string;
    nhsNumber: string;
    address: { postcode: string };
  };
  incident: { number: string; location: { postcode: string } };
}

/**
 * What referral `i` (1 = newest, received `minutesApart × i` before `nowMs`) says about its person,
 * in the shape of a referral's payload, for src/records/search-terms.ts to index as intake would.
 */
export function seedPerson(i: number, nowMs: number, minutesApart: number): SeedPerson {
  const person = personOf(i);
  const next = stream(person);
  const personReceivedMs = nowMs - person * minutesApart * 60_000;
  const [common, surnameRank] = pick(COMMON_SURNAMES, next(), RARE_SURNAMES, 200);
  const familyName = common || madeUpName(surnameRank - COMMON_SURNAMES.length);
  const [commonGiven, givenRank] = pick(COMMON_GIVEN_NAMES, next(), RARE_GIVEN_NAMES, 50);
  // Made-up given names follow the surnames' in the same name space, so the two never coincide.
  const givenName = commonGiven || madeUpName(RARE_SURNAMES + givenRank);
  const home = postcode(next);
  const dob = dateOfBirth(next, personReceivedMs);
  // The incident is this referral's own: four in five at home, the rest somewhere else.
  const incident = stream(i + 0x5eed);
  const at = incident() < 0.8 ? home : postcode(incident);
  const day = new Date(nowMs - i * minutesApart * 60_000).toISOString().slice(0, 10).replaceAll('-', '');
  return {
    surnameRank,
    subject: {
      givenName,
      familyName,
      dateOfBirth: dob,
      nhsNumber: nhsNumber(person),
      address: { postcode: home },
    },
    incident: { number: `INC-${day}-${String(i % 10_000).padStart(4, '0')}`, location: { postcode: at } },
  };
}
