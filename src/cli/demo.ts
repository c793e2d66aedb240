import { createApiKey } from '../access/apikey.service.ts';
import { createUser } from '../access/user.service.ts';
import type { RelayContext } from '../context.ts';
import { latestVersion } from '../directory/directory.repository.ts';
import { DEMO_DIRECTORY_PATH, importDirectory, readDirectoryFile } from '../directory/directory.service.ts';

export const DEMO_SOURCE_SYSTEM = 'demo-epcr';
export const DEMO_TEAM = 'birmingham-adults';

/**
 * Loads the shipped demo directory and demo API keys into an empty database, once. Returns the
 * lines to print (keys are shown this one time only), or nothing when the database was not empty.
 */
const DEMO_PEOPLE = [
  { role: 'crew', email: 'crew@example.org', name: 'Priya Kaur (paramedic)' },
  {
    role: 'recipient',
    email: 'adults.birmingham@example.org',
    name: 'Sam Okafor (Birmingham adults)',
    team: DEMO_TEAM,
  },
  { role: 'safeguarding', email: 'safeguarding@example.org', name: 'Jo Bennett (safeguarding lead)' },
  { role: 'admin', email: 'admin@example.org', name: 'Alex Morgan (administrator)' },
  { role: 'auditor', email: 'auditor@example.org', name: 'Chris Patel (information governance)' },
] as const;

/** One account per role, each with a fresh random password printed once. */
async function seedDemoAccounts(ctx: RelayContext) {
  const created = [];
  for (const person of DEMO_PEOPLE) {
    const { password } = await createUser(
      ctx.db.kysely,
      ctx.clock,
      {
        email: person.email,
        name: person.name,
        roles: [person.role],
        teams: 'team' in person ? [person.team] : [],
      },
      'cli:demo',
      () => true,
    );
    created.push({ role: person.role, email: person.email, password });
  }
  return created;
}

export async function seedDemo(ctx: RelayContext): Promise<string[] | undefined> {
  if (ctx.config.env === 'production') throw new Error('demo data is never loaded when RELAY_ENV=production');
  if (await latestVersion(ctx.db.kysely)) return undefined;
  const directory = await importDirectory(
    ctx.db.kysely,
    ctx.clock,
    await readDirectoryFile(DEMO_DIRECTORY_PATH),
    {
      actor: 'cli:demo',
      source: 'demo-directory.json',
    },
  );
  const teamExists = async () => true;
  const epcr = await createApiKey(
    ctx.db.kysely,
    ctx.clock,
    { name: 'Demo ePCR', scope: 'referrals:write', sourceSystem: DEMO_SOURCE_SYSTEM },
    'cli:demo',
    teamExists,
  );
  const team = await createApiKey(
    ctx.db.kysely,
    ctx.clock,
    { name: 'Demo Birmingham adults case system', scope: 'acknowledgements:write', teamId: DEMO_TEAM },
    'cli:demo',
    teamExists,
  );
  const people = await seedDemoAccounts(ctx);
  return [
    `Loaded the demo directory (version ${directory.versionId}: ${directory.authorities} authorities, ${directory.teams} teams).`,
    'Demo API keys (shown once; store them now):',
    `  ePCR, referrals:write (source system "${DEMO_SOURCE_SYSTEM}"): ${epcr.key}`,
    `  ${DEMO_TEAM}, acknowledgements:write: ${team.key}`,
    'Demo accounts (sign in at /sign-in; shown once):',
    ...people.map((p) => `  ${p.role.padEnd(13)} ${p.email}  password: ${p.password}`),
  ];
}
