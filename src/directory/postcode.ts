/**
 * UK postcodes, matched structurally: the area is the leading letters of the outward code, so
 * area B never matches BA1 1AA the way a string prefix would.
 */

const AREA = '[A-PR-UWYZ][A-HK-Y]?';
const OUTWARD =
  '(?:[A-PR-UWYZ][A-HK-Y]?[0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])';
const INWARD = '[0-9][ABD-HJLNP-UW-Z]{2}';

const AREA_RE = new RegExp(`^${AREA}$`);
const OUTWARD_RE = new RegExp(`^${OUTWARD}$`);
const SECTOR_RE = new RegExp(`^${OUTWARD} [0-9]$`);
const FULL_COMPACT_RE = new RegExp(`^(${OUTWARD})(${INWARD})$`);

export interface ParsedPostcode {
  area: string;
  /** The outward code, e.g. 'B15', 'WV10', 'EC1A'. */
  district: string;
  sector?: string;
  full?: string;
}

export type PrefixKind = 'area' | 'district' | 'sector' | 'full';

export interface CoveragePrefix {
  kind: PrefixKind;
  prefix: string;
}

function areaOf(outward: string): string {
  return /^[A-Z]+/.exec(outward)?.[0] ?? outward;
}

/**
 * A full postcode in any case or spacing, or an outward code alone (an incident location may be
 * no more precise than that). A sector alone is refused: with its space removed 'WV1 0' would
 * read as district WV10.
 */
export function parsePostcode(input: string): ParsedPostcode | null {
  const trimmed = input.trim().toUpperCase();
  const compact = trimmed.replace(/\s+/g, '');
  const full = FULL_COMPACT_RE.exec(compact);
  if (full) {
    const district = full[1] ?? '';
    const inward = full[2] ?? '';
    return {
      area: areaOf(district),
      district,
      sector: `${district} ${inward.charAt(0)}`,
      full: `${district} ${inward}`,
    };
  }
  if (compact === trimmed && OUTWARD_RE.test(compact)) return { area: areaOf(compact), district: compact };
  return null;
}

/** `" b15  2tt"` → `"B15 2TT"`; an outward code alone → itself upper-cased; anything else → null. */
export function normalisePostcode(input: string): string | null {
  const parsed = parsePostcode(input);
  return parsed ? (parsed.full ?? parsed.district) : null;
}

export function isValidFullPostcode(input: string): boolean {
  return parsePostcode(input)?.full !== undefined;
}

/** A coverage prefix: area `B`, district `B15`, sector `B15 2` (space required) or full postcode. */
export function classifyPrefix(input: string): CoveragePrefix | null {
  const prefix = input.trim().toUpperCase().replace(/\s+/g, ' ');
  if (AREA_RE.test(prefix)) return { kind: 'area', prefix };
  if (OUTWARD_RE.test(prefix)) return { kind: 'district', prefix };
  if (SECTOR_RE.test(prefix)) return { kind: 'sector', prefix };
  const full = parsePostcode(prefix)?.full;
  return full === undefined ? null : { kind: 'full', prefix: full };
}

/** The coverage keys a postcode could match, most specific first. */
export function prefixCandidates(postcode: ParsedPostcode): string[] {
  const keys = [postcode.full, postcode.sector, postcode.district, postcode.area];
  return keys.filter((k): k is string => k !== undefined);
}
