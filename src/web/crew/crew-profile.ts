/**
 * The referrer details a crew member gives on every referral (role, staff ID, phone), remembered
 * from the last referral they sent so the next form arrives filled in. Their name and email come
 * from their account; they can still change any of it on the form.
 */
import type { RelayContext } from '../../context.ts';
import type { FormValues } from './referral-form.fields.ts';

export interface CrewProfile {
  role: string;
  staffId: string;
  phone: string;
}

export async function loadProfile(ctx: RelayContext, userId: string): Promise<CrewProfile | undefined> {
  const row = await ctx.db.kysely
    .selectFrom('crew_profiles')
    .select(['role', 'staff_id', 'phone'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { role: row.role ?? '', staffId: row.staff_id ?? '', phone: row.phone ?? '' } : undefined;
}

/** After a referral is sent: what the crew member said about themselves, for their next form. */
export async function rememberProfile(ctx: RelayContext, userId: string, v: FormValues): Promise<void> {
  const keep = (s: string) => (s.trim() === '' ? null : s.trim());
  const values = {
    role: keep(v.referrerRole),
    staff_id: keep(v.referrerStaffId),
    phone: keep(v.referrerPhone),
    updated_at: ctx.clock.now().toISOString(),
  };
  await ctx.db.kysely
    .insertInto('crew_profiles')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
}
