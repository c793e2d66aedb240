import { parse, type CsvError } from 'csv-parse/sync';
import { isValidIsoDate, londonToInstant } from '../directory/hours.ts';

/** A file that cannot be reconciled at all: nothing is compared and nothing is recorded. */
export class ReconciliationInputError extends Error {
  constructor(
    message: string,
    /** The form field to show it against: the pasted file or the source system. */
    readonly field: 'csv' | 'system' = 'csv',
  ) {
    super(message);
    this.name = 'ReconciliationInputError';
  }
}

export interface SourceRow {
  /** The 1-based line the row starts on, as an editor shows it. */
  line: number;
  /** From the file's `source_system` column; null when the file has none or the cell is blank. */
  system: string | null;
  sourceReference: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /**
   * The last millisecond `created_at` stands for at the precision it was written with (to the
   * second: .999 of it; to the minute: its 59.999), so a referral Relay received within that same
   * second or minute falls inside the file's period.
   */
  createdUntil: string;
}

export interface MalformedRow {
  line: number;
  reason: string;
  /** Given when the row has one, so the person can find the record in the source system. */
  sourceReference?: string;
}

export interface ParsedExport {
  rows: SourceRow[];
  malformed: MalformedRow[];
}

interface Columns {
  reference: number;
  createdAt: number;
  system: number | undefined;
}

interface RawRecord {
  record: string[];
  info: { bytes: number };
}

/**
 * Reads a source system's CSV export. Quotes are relaxed and rows may be ragged because exports
 * come from spreadsheets and hand-edits; a row that still makes no sense is reported by its line
 * and skipped, so one bad row never hides the rest of the file.
 */
export function parseSourceExport(input: string | Buffer): ParsedExport {
  const buffer = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const skipped: CsvError[] = [];
  const records = parse(buffer, {
    bom: true,
    info: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error) skipped.push(error);
      return undefined;
    },
    // With `info`, each record comes with its byte offset; the typings only describe plain records.
  }) as unknown as RawRecord[];
  const lines = lineLocator(buffer);
  const [header, ...body] = records;
  if (!header) {
    throw new ReconciliationInputError(
      skipped.length > 0 ? 'the file could not be read as CSV' : 'the file is empty',
    );
  }
  const columns = findColumns(header.record);
  const result: ParsedExport = { rows: [], malformed: [] };
  let previousEnd = header.info.bytes;
  for (const { record, info } of body) {
    const line = lines.startingAt(previousEnd);
    previousEnd = info.bytes;
    if (record.every((cell) => cell.trim() === '')) continue; // a spreadsheet's trailing ",,"
    const row = readRow(record, columns, line);
    if ('reason' in row) result.malformed.push(row);
    else result.rows.push(row);
  }
  // With relaxed quotes the only error left is a quote never closed, which swallows the rest.
  if (skipped.length > 0) {
    result.malformed.push({
      line: lines.startingAt(previousEnd),
      reason: 'a quoted field is never closed, so this row and every line after it could not be read',
    });
  }
  return result;
}

/** Header names are matched case-insensitively and trimmed; their values are never echoed. */
function findColumns(header: string[]): Columns {
  const names = header.map((name) => name.trim().toLowerCase());
  const reference = names.indexOf('source_reference');
  const createdAt = names.indexOf('created_at');
  if (reference < 0 || createdAt < 0) {
    throw new ReconciliationInputError(
      'the first line must be a header naming the columns source_reference and created_at',
    );
  }
  const system = names.indexOf('source_system');
  return { reference, createdAt, system: system < 0 ? undefined : system };
}

function readRow(record: string[], columns: Columns, line: number): SourceRow | MalformedRow {
  const sourceReference = (record[columns.reference] ?? '').trim();
  const created = (record[columns.createdAt] ?? '').trim();
  const system = columns.system === undefined ? '' : (record[columns.system] ?? '').trim();
  if (!sourceReference) return { line, reason: 'no source_reference' };
  const withReference = { line, sourceReference };
  if (!created) return { ...withReference, reason: 'no created_at' };
  const createdAt = parseCreatedAt(created);
  const unit = precisionOf(created);
  if (!createdAt || !unit) {
    return {
      ...withReference,
      reason: 'the created_at value is not a date and time like 2026-11-25T10:15:00Z or 2026-11-25 10:15',
    };
  }
  return {
    line,
    system: system || null,
    sourceReference,
    createdAt: createdAt.toISOString(),
    createdUntil: new Date(createdAt.getTime() + unit - 1).toISOString(),
  };
}

/** The span one written time stands for, in ms: a minute, a second, or its fraction's last digit's worth (at least 1 ms). */
export function precisionOf(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, , , , seconds, fraction] = m;
  if (fraction) return Math.max(1, 1000 / 10 ** fraction.length);
  return seconds === undefined ? 60_000 : 1000;
}

const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * ISO 8601 date and time, with `T` or a space. A time without an offset is London time, as UK
 * source systems export local time; a date alone is refused, since the period would lose its day.
 */
export function parseCreatedAt(text: string): Date | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, date = '', hours = '', minutes = '', seconds = '00', fraction = '', zone] = m;
  if (!isValidIsoDate(date) || Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) {
    return undefined;
  }
  const millis = Number(seconds) * 1000 + Math.floor(Number(`0.${fraction || '0'}`) * 1000);
  if (zone) {
    const offset = zone.toUpperCase() === 'Z' ? 'Z' : normaliseOffset(zone);
    const at = Date.parse(`${date}T${hours}:${minutes}:00${offset}`);
    return Number.isNaN(at) ? undefined : new Date(at + millis);
  }
  return new Date(londonToInstant(date, `${hours}:${minutes}`).getTime() + millis);
}

function normaliseOffset(zone: string): string {
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
}

/**
 * Line numbers from byte offsets. csv-parse counts a CRLF inside a quoted field as two lines, so
 * its own count drifts; offsets do not. CRLF, LF and a lone CR each end one line.
 */
function lineLocator(buffer: Buffer) {
  const starts = [0];
  for (let i = 0; i < buffer.length; i++) {
    const byte = buffer[i];
    if (byte === 0x0d && buffer[i + 1] === 0x0a) i++;
    if (byte === 0x0d || byte === 0x0a) starts.push(i + 1);
  }
  const lineOf = (offset: number) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
  return {
    /** The line of the first non-empty content at or after `offset` (empty lines are skipped). */
    startingAt(offset: number): number {
      let at = offset;
      while (buffer[at] === 0x0d || buffer[at] === 0x0a) at++;
      return lineOf(at);
    },
  };
}
