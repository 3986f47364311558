/**
 * The manifest's CSV reader (RFC 4180) and UTF-8 check: the RFC's own cases, spreadsheet habits (BOM,
 * semicolons, CR line ends), and hostile files: unbalanced quotes, quote smuggling, huge cells and rows,
 * pathological quoting, bad UTF-8 (checked against Node's own fatal decoder on random bytes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsvError, parseCsv } from '../../server/manifest/csv.ts';
import { decodeUtf8, firstInvalidUtf8 } from '../../server/manifest/utf8.ts';

const LIMITS = { maxRows: 1000, maxColumns: 50, maxCellChars: 200 };
const rows = (t: string) => parseCsv(t, LIMITS).rows;
const error = (t: string, limits = LIMITS): CsvError => {
  try {
    parseCsv(t, limits);
  } catch (e) {
    if (e instanceof CsvError) return e;
    throw e;
  }
  throw new Error('expected a CsvError');
};

describe('RFC 4180', () => {
  it('2.1-2.3: records end with CRLF, the last one may not; a header is a record like the others', () => {
    expect(rows('serial,mac\r\nA1,aa\r\nA2,bb')).toEqual([
      ['serial', 'mac'],
      ['A1', 'aa'],
      ['A2', 'bb'],
    ]);
    expect(rows('serial,mac\r\nA1,aa\r\n')).toEqual([
      ['serial', 'mac'],
      ['A1', 'aa'],
    ]);
  });
  it('2.4: spaces are part of a field; 2.5: fields may be quoted', () => {
    expect(rows(' a , b ,"c"')).toEqual([[' a ', ' b ', 'c']]);
  });
  it('2.6: quoted fields hold commas, quotes and line breaks; 2.7: "" is one quote', () => {
    const t = parseCsv('note,serial\r\n"rack 4, slot 2 ""top""\r\nsecond line",S1\r\nx,S2\r\n', LIMITS);
    expect(t.rows).toEqual([
      ['note', 'serial'],
      ['rack 4, slot 2 "top"\r\nsecond line', 'S1'],
      ['x', 'S2'],
    ]);
    expect(t.lines).toEqual([1, 2, 4]); // the quoted line break counts for the line numbers reported
  });
  it('empty fields, trailing separators and wholly empty lines', () => {
    expect(rows('a,,c,\n\n\nd,e,f,g\n')).toEqual([
      ['a', '', 'c', ''],
      ['d', 'e', 'f', 'g'],
    ]);
    expect(rows('""')).toEqual([['']]);
  });
});

describe('spreadsheet habits', () => {
  it('skips a UTF-8 byte order mark, takes LF and lone CR line ends', () => {
    expect(rows('\ufeffserial\nA\rB\r\nC')).toEqual([['serial'], ['A'], ['B'], ['C']]);
  });
  it('takes ; or tab as the separator when the first line has one of them and no comma', () => {
    expect(parseCsv('serial;hostname\nA;web-1,x\n', LIMITS)).toMatchObject({
      separator: ';',
      rows: [
        ['serial', 'hostname'],
        ['A', 'web-1,x'],
      ],
    });
    expect(parseCsv('serial\thostname\nA\tweb-1\n', LIMITS).rows).toEqual([
      ['serial', 'hostname'],
      ['A', 'web-1'],
    ]);
    expect(parseCsv('serial,hostname;x\n', LIMITS).separator).toBe(',');
  });
});

describe('hostile CSV', () => {
  it('an unclosed quote names the line and column where it opened', () => {
    const e = error('serial,note\nA,fine\nB,"never closed\nC,x\nD,y\n');
    expect([e.line, e.column]).toEqual([3, 3]);
    expect(e.message).toContain('never closed');
  });
  it('a quote inside an unquoted field, or text after a closing quote, is refused (no smuggled cells)', () => {
    expect(error('serial\nab"c\n').message).toContain('quote inside an unquoted field');
    const e = error('serial,ip\n"A"x,10.0.0.1\n');
    expect([e.line, e.column, e.reason]).toEqual([2, 4, expect.stringContaining('after a closing quote')]);
  });
  it('bounds rows, columns and cell length while reading', () => {
    expect(error('a\n'.repeat(1002)).message).toContain('more than 1000 rows');
    expect(error(`${'x,'.repeat(60)}x\n`).message).toContain('more than 50 columns');
    expect(error(`a\n${'y'.repeat(201)}\n`).message).toContain('longer than 200');
    expect(error(`a\n"${'""'.repeat(250)}"\n`).message).toContain('longer than 200');
  });
  it('pathological quoting over megabytes is read in one pass (quotes only, a lone quote, huge line breaks)', () => {
    const big = { maxRows: 10, maxColumns: 10, maxCellChars: 8 * 1024 * 1024 };
    expect(parseCsv(`"${'""'.repeat(1_000_000)}"`, big).rows[0]![0]!.length).toBe(1_000_000);
    expect(error(`"${'\n'.repeat(2_000_000)}`, big).line).toBe(1);
    expect(parseCsv(`"${'a\r\n'.repeat(500_000)}"`, big).rows).toHaveLength(1);
  });
  it('never throws anything but CsvError on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ';', '\t', 'é', ' '), maxLength: 200 }), (s) => {
        try {
          const t = parseCsv(s, LIMITS);
          expect(t.rows.length).toBe(t.lines.length);
        } catch (e) {
          expect(e).toBeInstanceOf(CsvError);
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('round-trips any table written the RFC way (fuzz)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\r\n', ' ', 'ü'), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 5 }), { minLength: 1, maxLength: 8 }), (table) => {
        const text = table.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\r\n');
        expect(parseCsv(text, LIMITS).rows).toEqual(table);
      }),
      { numRuns: 500 },
    );
  });
});

describe('UTF-8', () => {
  it('names the first bad byte and its line', () => {
    const b = Buffer.concat([Buffer.from('serial\nA1\nB\xc3'.slice(0, 11)), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]);
    expect(decodeUtf8(b)).toEqual({ offset: 11, line: 3 });
    expect(decodeUtf8(Buffer.from('ok ü 漢 😀'))).toEqual({ text: 'ok ü 漢 😀' });
  });
  it('refuses overlong forms, surrogates, code points past U+10FFFF and cut sequences (RFC 3629)', () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xe0, 0x80, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xff],
    ])
      expect(firstInvalidUtf8(Uint8Array.from(bad)), bad.join(' ')).toBe(0);
  });
  it('agrees with Node’s fatal UTF-8 decoder on random bytes (fuzz)', () => {
    const dec = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (b) => {
        let ok = true;
        try {
          dec.decode(b);
        } catch {
          ok = false;
        }
        expect(firstInvalidUtf8(b) === -1).toBe(ok);
      }),
      { numRuns: 20000 },
    );
  });
});
