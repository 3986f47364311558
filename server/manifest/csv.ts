/**
 * CSV as RFC 4180 defines it, written here for the rack manifest. Pure: text in, rows out, one typed
 * error naming the line and column where reading stopped. Linear in the input (one pass, cells cut
 * with slices), with bounds on rows, columns and cell length checked as it goes.
 *
 * RFC 4180 2: records end with CRLF (LF and a lone CR are taken too: spreadsheets on every platform);
 * fields are separated by commas; a field may be enclosed in double quotes, and then may hold commas,
 * line breaks and doubled quotes (`""`); outside quotes a field may hold no quote. Beyond the RFC: a
 * UTF-8 byte order mark is skipped (Excel writes one), wholly empty lines are skipped, and the separator
 * is `;` or a tab when the first line has one of those and no comma (spreadsheets in many locales).
 */

/** Where and why reading stopped. */
export class CsvError extends Error {
  constructor(
    readonly reason: string,
    /** 1-based line of the input where the problem is. */
    readonly line: number,
    /** 1-based character column on that line. */
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'CsvError';
  }
}

/** Bounds a parse refuses to go past. */
export interface CsvLimits {
  maxRows: number;
  maxColumns: number;
  maxCellChars: number;
}

/** A parsed file: rows of cells, with the input line each row started on. */
export interface CsvTable {
  rows: string[][];
  lines: number[];
  separator: ',' | ';' | '\t';
}

/** The separator: a comma, unless the first line has none but has `;` or a tab. */
export function detectSeparator(text: string): ',' | ';' | '\t' {
  const end = text.search(/[\r\n]/);
  const first = end < 0 ? text : text.slice(0, end);
  if (first.includes(',')) return ',';
  if (first.includes(';')) return ';';
  if (first.includes('\t')) return '\t';
  return ',';
}

/** Parse CSV text; throws CsvError. */
export function parseCsv(input: string, limits: CsvLimits): CsvTable {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const sep = detectSeparator(text);
  const rows: string[][] = [];
  const lines: number[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (reason: string, at = i): never => {
    throw new CsvError(reason, line, at - lineStart + 1);
  };
  const isEol = (c: string | undefined) => c === '\n' || c === '\r';
  const nextNewline = (from: number) => {
    const k = text.indexOf('\n', from);
    return k < 0 ? n : k;
  };
  /** The next LF at or after the quoted text being read (or n). */
  let nl = nextNewline(0);
  /** Step over one line break (CRLF, LF or CR) at i. */
  const eol = () => {
    i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
    line++;
    lineStart = i;
  };

  while (i < n) {
    if (isEol(text[i])) {
      eol(); // a wholly empty line
      continue;
    }
    const row: string[] = [];
    const rowLine = line;
    for (;;) {
      let cell: string;
      if (text[i] === '"') {
        const openLine = line;
        const openCol = i - lineStart + 1;
        i++;
        const parts: string[] = [];
        let from = i;
        let size = 0;
        for (;;) {
          const q = text.indexOf('"', i);
          // Line breaks inside quotes are data (RFC 4180 2.6) but still count for the line numbers we report.
          // `nl` only moves forward, so counting them costs one pass over the input in all.
          const chunkEnd = q < 0 ? n : q;
          while (nl < chunkEnd) {
            if (nl >= i) {
              line++;
              lineStart = nl + 1;
            }
            nl = nextNewline(nl + 1);
          }
          if (q < 0) throw new CsvError('a quoted field is never closed (a lone " opened it)', openLine, openCol);
          const pair = text[q + 1] === '"';
          size += q - from + (pair ? 1 : 0);
          if (size > limits.maxCellChars) fail(`a field is longer than ${limits.maxCellChars} characters`);
          if (pair) {
            parts.push(text.slice(from, q + 1)); // "" is one quote
            i = q + 2;
            from = i;
            continue;
          }
          parts.push(text.slice(from, q));
          i = q + 1;
          break;
        }
        cell = parts.join('');
        if (i < n && text[i] !== sep && !isEol(text[i]))
          fail(`text after a closing quote (expected "${sep === '\t' ? '\\t' : sep}" or a line end)`);
      } else {
        const from = i;
        while (i < n && text[i] !== sep && !isEol(text[i])) {
          if (text[i] === '"') fail('a quote inside an unquoted field (RFC 4180: enclose the field in quotes and double the quote)');
          i++;
        }
        if (i - from > limits.maxCellChars) fail(`a field is longer than ${limits.maxCellChars} characters`, from);
        cell = text.slice(from, i);
      }
      row.push(cell);
      if (row.length > limits.maxColumns) fail(`more than ${limits.maxColumns} columns`);
      if (i < n && text[i] === sep) {
        i++;
        continue;
      }
      break;
    }
    rows.push(row);
    lines.push(rowLine);
    if (rows.length > limits.maxRows) fail(`more than ${limits.maxRows} rows`);
    if (i < n) eol();
  }
  return { rows, lines, separator: sep };
}
