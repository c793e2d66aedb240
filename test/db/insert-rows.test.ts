import assert from 'node:assert/strict';
import { it } from 'node:test';
import { insertRows } from '../../src/db/insert-rows.ts';
import { describeEachDialect, useTestDatabase } from '../helpers/db.ts';

describeEachDialect('inserting rows in one statement', (dialect) => {
  const database = useTestDatabase(dialect);
  const runs = (job: string) =>
    database()
      .db.kysely.selectFrom('scheduled_runs')
      .selectAll()
      .where('job', '=', job)
      .orderBy('period')
      .execute();

  it('writes every row with its values in their columns, for any number of rows', async () => {
    const { kysely } = database().db;
    for (const count of [1, 2, 3, 2]) {
      const job = `job-${count}-${Math.random()}`;
      const rows = Array.from({ length: count }, (_, i) => ({
        job,
        period: `2026-12-0${i + 1}`,
        ran_at: `2026-12-0${i + 1}T03:00:00.000Z`,
        detail: `{"n":${i},"quote":"it's"}`,
      }));
      await insertRows(kysely, 'scheduled_runs', rows);
      assert.deepEqual(await runs(job), rows);
    }
    await insertRows(kysely, 'scheduled_runs', []);
  });

  it('inside a transaction, and not at all when the transaction rolls back', async () => {
    const { kysely } = database().db;
    const row = { job: 'rolled-back', period: 'p', ran_at: 'r', detail: '{}' };
    await assert.rejects(
      kysely.transaction().execute(async (trx) => {
        await insertRows(trx, 'scheduled_runs', [row]);
        assert.equal(
          (await trx.selectFrom('scheduled_runs').select('job').where('job', '=', 'rolled-back').execute())
            .length,
          1,
        );
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepEqual(await runs('rolled-back'), []);
  });

  it('leaves rows with an undefined value to Kysely, which leaves that column out', async () => {
    const { kysely } = database().db;
    const user = (id: string) => ({
      id,
      email: `${id}@example.org`,
      name: id,
      roles: '["recipient"]',
      teams: '[]',
      password_hash: 'x',
      failed_attempts: 0,
      locked_until: undefined,
      must_change_password: 0,
      created_at: '2026-12-07T00:00:00.000Z',
      disabled_at: null,
    });
    await insertRows(kysely, 'users', [user('u-one'), user('u-two')]);
    const rows = await kysely
      .selectFrom('users')
      .select(['id', 'locked_until'])
      .where('id', 'like', 'u-%')
      .orderBy('id')
      .execute();
    assert.deepEqual(rows, [
      { id: 'u-one', locked_until: null },
      { id: 'u-two', locked_until: null },
    ]);
  });

  it('fails as Kysely would on a row that breaks a constraint, and writes none of the statement', async () => {
    const { kysely } = database().db;
    const row = { job: 'twice', period: 'p', ran_at: 'r', detail: '{}' };
    await assert.rejects(insertRows(kysely, 'scheduled_runs', [row, row]));
    assert.deepEqual(await runs('twice'), []);
  });

  it('leaves a database with plugins to Kysely, so a plugin that guards every statement still sees this one', async () => {
    const { kysely } = database().db;
    const refusing = kysely.withPlugin({
      transformQuery: () => {
        throw new Error('refused by the plugin');
      },
      transformResult: async (args) => args.result,
    });
    const row = { job: 'guarded', period: 'p', ran_at: 'r', detail: '{}' };
    await assert.rejects(insertRows(refusing, 'scheduled_runs', [row]), /refused by the plugin/);
    assert.deepEqual(await runs('guarded'), []);
  });
});
