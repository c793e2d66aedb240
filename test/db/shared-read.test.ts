import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SharedRead } from '../../src/db/shared-read.ts';

/** A read the test finishes by hand, answering with the value the store held when the read began. */
function controlledStore() {
  let value = 0;
  const reads: { finish(): void; fail(error: Error): void }[] = [];
  const read = () =>
    new Promise<number>((resolve, reject) => {
      const sawValue = value;
      reads.push({ finish: () => resolve(sawValue), fail: reject });
    });
  return { reads, read, set: (v: number) => (value = v) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

it('gives callers that ask in one turn one read, made after they asked', async () => {
  const store = controlledStore();
  const shared = new SharedRead(store.read);
  const answers = Promise.all([shared.get(), shared.get(), shared.get()]);
  assert.equal(store.reads.length, 0, 'nothing is read before the turn ends');
  store.set(1);
  await turn();
  assert.equal(store.reads.length, 1);
  store.reads[0]?.finish();
  assert.deepEqual(await answers, [1, 1, 1]);
});

it('never answers a caller with a read that began before it asked: it waits for the next one, shared', async () => {
  const store = controlledStore();
  const shared = new SharedRead(store.read);
  const first = shared.get();
  await turn();
  assert.equal(store.reads.length, 1);
  // Committed after the first read began: callers asking now must see it.
  store.set(1);
  const later = [shared.get(), shared.get(), shared.get()];
  await turn();
  assert.equal(store.reads.length, 1, 'the next read waits for the one in flight');
  store.reads[0]?.finish();
  assert.equal(await first, 0);
  await turn();
  assert.equal(store.reads.length, 2, 'the callers who asked during the first read share one more');
  store.reads[1]?.finish();
  assert.deepEqual(await Promise.all(later), [1, 1, 1]);

  // Idle again: the next caller's read is its own.
  store.set(2);
  const alone = shared.get();
  await turn();
  assert.equal(store.reads.length, 3);
  store.reads[2]?.finish();
  assert.equal(await alone, 2);
});

it('passes a failed read to the callers sharing it; those who asked during it read again', async () => {
  const store = controlledStore();
  const shared = new SharedRead(store.read);
  const failing = [shared.get(), shared.get()];
  await turn();
  const queued = shared.get();
  store.reads[0]?.fail(new Error('database gone'));
  for (const answer of failing) await assert.rejects(answer, /database gone/);
  await turn();
  assert.equal(store.reads.length, 2);
  store.reads[1]?.finish();
  assert.equal(await queued, 0);

  const after = shared.get();
  await turn();
  assert.equal(store.reads.length, 3, 'a failure leaves nothing behind: the next caller reads');
  store.reads[2]?.finish();
  assert.equal(await after, 0);
});
