import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseCreatedAt,
  precisionOf,
  parseSourceExport,
  ReconciliationInputError,
} from '../../src/governance/reconciliation.csv.ts';

const refs = (text: string | Buffer) => parseSourceExport(text).rows.map((r) => [r.line, r.sourceReference]);

describe('reading a source system export', () => {
  it('reads the two required columns, in either order, with times in UTC', () => {
    const parsed = parseSourceExport('created_at,source_reference\n2026-11-25T10:15:00Z,EPCR-1\n');
    assert.deepEqual(parsed, {
      rows: [
        {
          line: 2,
          system: null,
          sourceReference: 'EPCR-1',
          createdAt: '2026-11-25T10:15:00.000Z',
          createdUntil: '2026-11-25T10:15:00.999Z',
        },
      ],
      malformed: [],
    });
  });

  it('skips a byte order mark, as a spreadsheet saves one', () => {
    assert.deepEqual(refs('\uFEFFsource_reference,created_at\nA,2026-11-25T10:00Z\n'), [[2, 'A']]);
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('source_reference,created_at\r\nB,2026-11-25 10:00\r\n'),
    ]);
    assert.deepEqual(refs(bytes), [[2, 'B']]);
  });

  it('reads CRLF, LF and CR-only line endings alike', () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      const text = ['source_reference,created_at', 'A,2026-11-25T10:00Z', 'B,2026-11-25T11:00Z'].join(eol);
      assert.deepEqual(
        refs(text),
        [
          [2, 'A'],
          [3, 'B'],
        ],
        JSON.stringify(eol),
      );
    }
  });

  it('reads quoted fields holding commas, quotes and line breaks, and keeps later line numbers right', () => {
    for (const eol of ['\r\n', '\n', '\r']) {
      const text = [
        'source_reference,created_at,note',
        '"A,1",2026-11-25T10:00Z,"said ""hello"",',
        'then left"',
        'B,2026-11-25T11:00Z,plain',
        'C,not a date,x',
      ].join(eol);
      const parsed = parseSourceExport(text);
      assert.deepEqual(
        parsed.rows.map((r) => [r.line, r.sourceReference]),
        [
          [2, 'A,1'],
          [4, 'B'],
        ],
        JSON.stringify(eol),
      );
      assert.deepEqual(
        parsed.malformed.map((m) => m.line),
        [5],
      );
    }
  });

  it('ignores extra columns and matches header names whatever their case and spacing', () => {
    const parsed = parseSourceExport(
      'Incident, Source_Reference ,CREATED_AT,Crew,Source_System\nINC-9,A,2026-11-25T10:00Z,BM-1,epcr-west\nINC-10,B,2026-11-25T10:05Z,BM-2,\n',
    );
    assert.deepEqual(
      parsed.rows.map((r) => [r.sourceReference, r.system]),
      [
        ['A', 'epcr-west'],
        ['B', null],
      ],
    );
  });

  it('reports each malformed row by its line, with the reason, and reads the rest', () => {
    const text = [
      'source_reference,created_at', // 1
      'A,2026-11-25T10:00Z', // 2
      '', // 3: blank, skipped
      ',2026-11-25T10:05Z', // 4: no reference
      'C,', // 5: no created_at
      'D,25/11/2026 10:00', // 6: not ISO
      'E,2026-11-25', // 7: a date without a time
      'F,2026-02-30T10:00Z', // 8: no such day
      'G', // 9: too few columns
      ',,', // 10: an empty spreadsheet row, skipped
      'H,2026-11-25T12:00:00+01:00', // 11
    ].join('\r\n');
    const parsed = parseSourceExport(text);
    assert.deepEqual(refs(text), [
      [2, 'A'],
      [11, 'H'],
    ]);
    assert.deepEqual(
      parsed.malformed.map((m) => [m.line, m.sourceReference, m.reason.split(' ').slice(0, 3).join(' ')]),
      [
        [4, undefined, 'no source_reference'],
        [5, 'C', 'no created_at'],
        [6, 'D', 'the created_at value'],
        [7, 'E', 'the created_at value'],
        [8, 'F', 'the created_at value'],
        [9, 'G', 'no created_at'],
      ],
    );
  });

  it('reports a quote that is never closed at the line it opens, keeping the rows before it', () => {
    const parsed = parseSourceExport(
      'source_reference,created_at\nA,2026-11-25T10:00Z\n"B,2026-11-25T10:05Z\nC,2026-11-25T10:10Z\n',
    );
    assert.deepEqual(
      parsed.rows.map((r) => r.sourceReference),
      ['A'],
    );
    assert.equal(parsed.malformed.length, 1);
    assert.equal(parsed.malformed[0]?.line, 3);
    assert.match(parsed.malformed[0]?.reason ?? '', /never closed/);
  });

  it('refuses an empty file and one without the required header, saying why', () => {
    for (const empty of ['', '\uFEFF', '\r\n\r\n']) {
      assert.throws(
        () => parseSourceExport(empty),
        (e: unknown) => {
          assert.ok(e instanceof ReconciliationInputError);
          assert.equal(e.message, 'the file is empty');
          return true;
        },
      );
    }
    assert.throws(
      () => parseSourceExport('reference,created\nA,2026-11-25T10:00Z\n'),
      /header naming the columns source_reference and created_at/,
    );
    assert.throws(() => parseSourceExport('EPCR-1,2026-11-25T10:00Z\n'), ReconciliationInputError);
  });

  it('takes a header with no rows as a file with nothing in it', () => {
    assert.deepEqual(parseSourceExport('source_reference,created_at\r\n'), { rows: [], malformed: [] });
  });
});

describe('created_at', () => {
  const iso = (text: string) => parseCreatedAt(text)?.toISOString();

  it('takes ISO 8601 with a zone, T or a space, and fractions of a second', () => {
    assert.equal(iso('2026-11-25T10:15:00Z'), '2026-11-25T10:15:00.000Z');
    assert.equal(iso('2026-11-25t10:15z'), '2026-11-25T10:15:00.000Z');
    assert.equal(iso('2026-11-25 10:15:30.25+01:00'), '2026-11-25T09:15:30.250Z');
    assert.equal(iso('2026-11-25T10:15:00-0130'), '2026-11-25T11:45:00.000Z');
    assert.equal(iso('2026-11-25T10:15:00+02'), '2026-11-25T08:15:00.000Z');
  });

  it('reads a time without a zone as London time, summer and winter', () => {
    assert.equal(iso('2026-07-01 10:00'), '2026-07-01T09:00:00.000Z');
    assert.equal(iso('2026-11-25T10:00:05'), '2026-11-25T10:00:05.000Z');
  });

  it('knows the precision each time was written with', () => {
    assert.equal(precisionOf('2026-11-25 10:15'), 60_000);
    assert.equal(precisionOf('2026-11-25T10:15:00Z'), 1000);
    assert.equal(precisionOf('2026-11-25T10:15:00.2Z'), 100);
    assert.equal(precisionOf('2026-11-25T10:15:00.250Z'), 1);
    assert.equal(precisionOf('2026-11-25T10:15:00.250123Z'), 1);
    const minute = parseSourceExport('source_reference,created_at\nA,2026-11-25 10:15\n').rows[0];
    assert.equal(minute?.createdUntil, '2026-11-25T10:15:59.999Z');
  });

  it('refuses what is not a date and time', () => {
    for (const text of [
      '2026-11-25',
      '25/11/2026 10:00',
      '2026-13-01T10:00Z',
      '2026-11-25T24:00Z',
      'soon',
      '2026-11-25T10:60Z',
    ]) {
      assert.equal(parseCreatedAt(text), undefined, text);
    }
  });
});
