import { DEMO_DIRECTORY_PATH, readDirectoryFile } from '../../src/directory/directory.service.ts';

/** The team every benchmark referral goes to (B15, an adult subject). */
export const BENCH_TEAM = 'birmingham-adults';

/**
 * The demo directory with the benchmark's team open around the clock. The benchmark referral is
 * urgent, so while Birmingham's adult team is closed (nights, weekends, bank holidays) intake also
 * routes it to the out-of-hours team: two deliveries instead of one, and the figures (and the
 * scale seed, which clones one referral's routes) would depend on the hour the benchmark ran.
 * With the team always open, every referral makes exactly one route and one email at any hour.
 */
export async function benchDirectory(): Promise<unknown> {
  const directory = (await readDirectoryFile(DEMO_DIRECTORY_PATH)) as {
    authorities: { teams: { id: string; hours: unknown }[] }[];
  };
  const team = directory.authorities.flatMap((a) => a.teams).find((t) => t.id === BENCH_TEAM);
  if (!team) throw new Error(`the demo directory has no team ${BENCH_TEAM}`);
  team.hours = { always: true };
  return directory;
}
