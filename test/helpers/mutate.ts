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
