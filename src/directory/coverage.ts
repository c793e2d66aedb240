import type { CoverageEntry, Directory } from './directory.types.ts';
import { classifyPrefix, parsePostcode, prefixCandidates } from './postcode.ts';

export type CoverageResult =
  | { kind: 'match'; authorityId: string; prefix: string }
  | { kind: 'ambiguous'; prefix: string; candidates: string[] }
  | { kind: 'none' };

/** Coverage keyed by normalised prefix; build once per directory version and reuse. */
export interface CoverageIndex {
  readonly prefixes: ReadonlyMap<string, CoverageEntry>;
}

export function buildCoverageIndex(coverage: readonly CoverageEntry[]): CoverageIndex {
  const prefixes = new Map<string, CoverageEntry>();
  for (const entry of coverage) {
    const key = classifyPrefix(entry.prefix)?.prefix;
    const points = entry.authorityId !== undefined || (entry.split?.length ?? 0) > 0;
    // The import schema rejects bad and repeated prefixes; an index built from unchecked data keeps the first.
    if (key !== undefined && points && !prefixes.has(key)) prefixes.set(key, entry);
  }
  return { prefixes };
}

function isIndex(source: Directory | CoverageIndex): source is CoverageIndex {
  return 'prefixes' in source;
}

function resultFor(entry: CoverageEntry, prefix: string): CoverageResult {
  if (entry.split !== undefined && entry.split.length > 0) {
    return { kind: 'ambiguous', prefix, candidates: [...entry.split] };
  }
  return { kind: 'match', authorityId: entry.authorityId ?? '', prefix };
}

/** The longest matching prefix wins: full postcode, then sector, then district, then area. */
export function lookupCoverage(source: Directory | CoverageIndex, postcode: string): CoverageResult {
  const index = isIndex(source) ? source : buildCoverageIndex(source.coverage);
  const parsed = parsePostcode(postcode);
  if (!parsed) return { kind: 'none' };
  for (const key of prefixCandidates(parsed)) {
    const entry = index.prefixes.get(key);
    if (entry) return resultFor(entry, key);
  }
  return { kind: 'none' };
}
