import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import fc from 'fast-check';
import { rowCounts, type TestRelay } from './relay.ts';

/** Property tests' mutations of a valid example body: one value replaced or removed, by its path. */
export type Json = Record<string, unknown>;

/** Every path to a value in an example body, so mutations hit real fields as well as noise. */
export function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

export function mutate(body: Json, path: string[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0) return remove ? undefined : replacement;
  const copy: Json = Array.isArray(body) ? ([...body] as unknown as Json) : { ...body };
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    if (remove) delete copy[head];
    else copy[head] = replacement;
  } else {
    copy[head] = mutate((copy[head] ?? {}) as Json, rest, replacement, remove);
  }
  return copy;
}

/**
 * Bodies for a property test of an intake door: wholly random JSON, or a fresh `example()` with one
 * to three of its values replaced or removed.
 */
export function spoiltBodies(example: () => unknown): fc.Arbitrary<unknown> {
  const examplePaths = paths(example());
  return fc.oneof(
    fc.jsonValue(),
    fc
      .array(
        fc.record({
          path: fc.constantFrom(...examplePaths),
          value: fc.oneof(fc.jsonValue(), fc.string(), fc.constant(null), fc.integer()),
          remove: fc.boolean(),
        }),
        { minLength: 1, maxLength: 3 },
      )
      .map((mutations) =>
        mutations.reduce<unknown>((b, m) => mutate(b as Json, m.path, m.value, m.remove), example()),
      ),
  );
}

/** What an intake door may answer any body with: never a 500. */
const CLEAN_STATUSES = [200, 201, 400, 403, 409, 422];

/**
 * The property every intake door keeps, over `runs` bodies: `post` is answered with a known status
 * (never a 500), `check` holds for the answer, and a rejection (4xx) leaves every table as it was.
 */
export async function assertRejectsCleanly(
  relay: TestRelay,
  bodies: fc.Arbitrary<unknown>,
  {
    post,
    check,
    runs,
  }: {
    post: (body: unknown) => Promise<LightMyRequestResponse>;
    check: (response: LightMyRequestResponse) => void;
    runs: number;
  },
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(bodies, async (body) => {
      const before = await rowCounts(relay);
      const response = await post(body);
      assert.ok(CLEAN_STATUSES.includes(response.statusCode), `status ${response.statusCode}`);
      check(response);
      if (response.statusCode >= 400)
        assert.deepEqual(await rowCounts(relay), before, 'a rejected body wrote nothing');
    }),
    { numRuns: runs },
  );
}
