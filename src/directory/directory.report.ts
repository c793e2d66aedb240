import { describeTeamInUse } from './directory.guard.ts';
import type { ImportResult } from './directory.service.ts';

/** What `relay directory import` prints: the outcome first, then each forced team and each warning. */
export function importReport(result: ImportResult, dryRun: boolean): string[] {
  const counts = `${result.authorities} authorities, ${result.teams} teams, ${result.coverage} coverage entries`;
  const outcome = !result.changed
    ? `Unchanged: the file matches directory version ${result.versionId}.`
    : dryRun
      ? `Dry run: would import a new directory version (${counts}); nothing was written.`
      : `Imported directory version ${result.versionId}: ${counts}.`;
  return [
    outcome,
    ...result.forced.map((t) => `${dryRun ? 'Would force' : 'Forced'}: ${describeTeamInUse(t)}`),
    ...result.warnings.map((w) => `Warning: ${w}`),
  ];
}
