import type { Command } from 'commander';
import { command, withRuntime } from './command.ts';
import { formatLondon } from '../time.ts';
import { TIME_HINT } from '../assurance/oncall/oncall.rules.ts';
import type { RotaView } from '../assurance/oncall/oncall.service.ts';

/** The rota's service, loaded when a command runs (see command.ts). */
const rota = () => import('../assurance/oncall/oncall.service.ts');

/** Where escalations go while nobody is on the rota. */
function fallbackText(fallback: string | undefined): string {
  return fallback
    ? `escalations go to SAFEGUARDING_EMAIL (${fallback})`
    : 'SAFEGUARDING_EMAIL is not set, so NOBODY is told about escalations';
}

/** The rota as `relay oncall list` prints it: entries and gaps in time order, London times. */
export function formatRota(view: RotaView): string[] {
  if (!view.inUse) return [`The rota is empty: ${fallbackText(view.fallback)}.`];
  const rows: { at: number; line: string }[] = view.shifts.map((s) => ({
    at: Date.parse(s.from),
    line: `${s.id}  ${formatLondon(s.from)} to ${formatLondon(s.to)}  ${s.email}${s.current ? '  (on call now)' : ''}`,
  }));
  for (const gap of view.gaps) {
    rows.push({
      at: gap.from.getTime(),
      line: `GAP   ${formatLondon(gap.from.toISOString())} to ${formatLondon(gap.to.toISOString())}  nobody on call: ${fallbackText(view.fallback)}`,
    });
  }
  rows.sort((a, b) => a.at - b.at);
  const summary =
    view.gaps.length === 0
      ? 'No gaps in the next 7 days.'
      : `${view.gaps.length} gap${view.gaps.length > 1 ? 's' : ''} in the next 7 days.`;
  return [...rows.map((r) => r.line), summary, 'Times are UK time.'];
}

/** `relay oncall set|list|remove`: the safeguarding on-call rota, as on the Rota page. */
export function registerOncallCommands(program: Command): void {
  const oncall = program
    .command('oncall')
    .description('The safeguarding on-call rota: who is told about escalations, and when');
  oncall
    .command('set')
    .description('Put someone on call from one time to another (entries may not overlap)')
    .requiredOption('--email <email>', 'the email address of the person on call')
    .requiredOption('--from <time>', `when the shift starts: ${TIME_HINT}`)
    .requiredOption('--to <time>', 'when the shift ends (same forms)')
    .action(
      command(async (options: { email: string; from: string; to: string }) =>
        withRuntime(async (ctx) => {
          const shift = await (await rota()).addShift(ctx, options, 'cli');
          console.log(
            `Added ${shift.id}: ${shift.email} on call from ${formatLondon(shift.from)} to ${formatLondon(shift.to)} (UK time).`,
          );
        }),
      ),
    );
  oncall
    .command('list')
    .description('List the current and upcoming entries, calling out gaps in the next 7 days')
    .action(
      command(async () =>
        withRuntime(async (ctx) => {
          for (const line of formatRota(await (await rota()).rotaView(ctx, ctx.clock.now())))
            console.log(line);
        }),
      ),
    );
  oncall
    .command('remove')
    .description('Take an entry off the rota (it stays in the record, marked removed)')
    .argument('<id>', 'the entry id, as `relay oncall list` shows it')
    .action(
      command(async (id: string) =>
        withRuntime(async (ctx) => {
          const shift = await (await rota()).removeShift(ctx, id, 'cli');
          console.log(
            `Removed ${shift.id} (${shift.email}, ${formatLondon(shift.from)} to ${formatLondon(shift.to)}).`,
          );
        }),
      ),
    );
}
