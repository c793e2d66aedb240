import { sql, type Kysely } from 'kysely';

/**
 * A referrals:write key is now bound to one source system (docs/operations.md, API keys and
 * source systems). An existing key
 * that has raised referrals for exactly one system is bound to it, so the ePCR using it carries on
 * unchanged. A key that has raised nothing, or for several systems, stays unbound and is refused
 * (403) until an admin issues a bound key (`relay apikey create --system`), because guessing would
 * let it go on raising as another system. docs/operations.md (Upgrades) says so.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations describe the schema before types exist
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    update api_keys
    set source_system = (select min(r.source_system) from referrals r where r.raised_by_key = api_keys.id)
    where scope = 'referrals:write'
      and source_system is null
      and (select count(distinct r.source_system) from referrals r where r.raised_by_key = api_keys.id) = 1
      and (select min(r.source_system) from referrals r where r.raised_by_key = api_keys.id) <> 'relay-web'
  `.execute(db);
}
