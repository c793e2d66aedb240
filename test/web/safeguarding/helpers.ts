import assert from 'node:assert/strict';
import { exampleReferral } from '../../../src/referrals/referral.example.ts';

/** A referral whose postcodes no authority covers, so it lands in the triage queue. */
export function outsideCoverage(): Parameters<typeof exampleReferral>[0] {
  const base = exampleReferral();
  return {
    incident: { ...base.incident, location: { postcode: 'SW1A 2AA' } },
    subject: {
      ...base.subject,
      address: { line1: '10 Downing Street', town: 'London', postcode: 'SW1A 2AA' },
    },
  };
}

/** The body of the dashboard table with this caption, or '' if there is none. */
export function tableIn(html: string, caption: string): string {
  return html.split(`>${caption}</caption>`)[1]?.split('</table>')[0] ?? '';
}

/** The number in a dashboard counts table for one row, e.g. ('Open deliveries by state', 'Failed'). */
export function countIn(html: string, caption: string, row: string): number {
  const table = tableIn(html, caption);
  const cells = new RegExp(
    `<th scope="row"[^>]*>\\s*${row}\\b[\\s\\S]*?</th>\\s*<td[^>]*>\\s*(?:<a[^>]*>)?(\\d+)`,
  );
  const found = cells.exec(table)?.[1];
  assert.ok(found !== undefined, `no row ${row} under ${caption}`);
  return Number(found);
}
