/**
 * Manifest files (CSV or JSON) -> checked rows: the understood columns validated and put in canonical
 * form, every other column kept as metadata. Pure. A file that cannot be read at all throws
 * CC_ERR_MANIFEST_INVALID naming where; a row with bad cells carries its problems (shown per row).
 */
import { HOSTNAME_PATTERN, MANIFEST_COLUMNS, MAX_MANIFEST_BYTES, MAX_MANIFEST_ROWS, NameSchema } from '../../contract/index.ts';
import { BmcAddressSchema } from '../../contract/bmc.ts';
import { canonicalMac, canonicalSerial, canonicalUuid } from '../nodes/identity.ts';
import { ipToInt } from '../net/ipv4.ts';
import { ccError } from '../errors/cc-error.ts';
import { CsvError, parseCsv } from './csv.ts';
import { decodeUtf8 } from './utf8.ts';

/** One machine of the manifest, checked. */
export interface ManifestRow {
  /** Row number in the file (CSV: the header is row 1; JSON: the first machine is row 1). */
  row: number;
  serial: string | null;
  uuid: string | null;
  macs: string[];
  hostname: string | null;
  ip: string | null;
  policy: string | null;
  bmc_address: string | null;
  metadata: Record<string, string | number | boolean>;
  problems: string[];
  warnings: string[];
}

/** A read manifest: its columns (CSV header, or the keys seen in JSON) and rows. */
export interface ManifestFile {
  columns: string[];
  rows: ManifestRow[];
}

/** Longest cell or metadata value (a note column may be long; a hostname never is). */
const MAX_CELL = 4096;
/** Most columns in a CSV manifest. */
const MAX_COLUMNS = 256;
/** Longest metadata key. */
const MAX_KEY = 128;

const HOSTNAME = new RegExp(HOSTNAME_PATTERN);
/** The schema's own pattern, so a row is checked exactly as the API checks the same field. */
const patternOf = (schema: unknown): RegExp => new RegExp((schema as { pattern: string }).pattern);
const POLICY = patternOf(NameSchema);
const BMC = patternOf(BmcAddressSchema);
/** A UTF-16 surrogate without its pair: JSON text may carry one as an escape; it is no character. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Cells spreadsheets evaluate as formulas when the file goes back into one (OWASP "CSV injection"). */
const FORMULA = /^[=+\-@\t\r]/;
/** True for C0 control characters other than tab and line breaks (a multi-line note cell is fine), and DEL. */
const hasControl = (s: string): boolean =>
  [...s].some((ch) => {
    const c = ch.charCodeAt(0);
    return (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f;
  });

const bad = (what: string): never => {
  throw ccError('CC_ERR_MANIFEST_INVALID', what);
};

/** The file's text: bytes are checked as UTF-8 (naming the line and byte of a bad sequence). */
export function manifestText(content: string | undefined, base64: string | undefined): string {
  if ((content === undefined) === (base64 === undefined)) bad('send the file as content (text) or content_base64 (bytes), one of them');
  if (content !== undefined) {
    if (content.length > MAX_MANIFEST_BYTES) bad(`the file is larger than ${MAX_MANIFEST_BYTES} bytes`);
    if (LONE_SURROGATE.test(content)) bad('the text holds a lone UTF-16 surrogate (not valid Unicode)');
    return content;
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64!)) bad('content_base64 is not base64');
  const bytes = Buffer.from(base64!, 'base64');
  if (bytes.length > MAX_MANIFEST_BYTES) bad(`the file is larger than ${MAX_MANIFEST_BYTES} bytes`);
  const d = decodeUtf8(bytes);
  if ('offset' in d)
    return bad(
      `the file is not UTF-8: bad byte 0x${bytes[d.offset]!.toString(16)} at byte ${d.offset} (line ${d.line}); save it as "CSV UTF-8"`,
    );
  return d.text;
}

/** One machine's cells (understood names, lowercase) -> a checked row. */
function checkRow(row: number, cells: Record<string, unknown>, extra: Record<string, unknown>): ManifestRow {
  const problems: string[] = [];
  const warnings: string[] = [];
  const str = (k: string): string | null => {
    const v = cells[k];
    if (v === undefined || v === null) return null;
    const s = String(v).trim();
    return s === '' ? null : s;
  };
  const serialText = str('serial');
  const serial = serialText === null ? null : canonicalSerial(serialText);
  if (serialText !== null && serial === null)
    problems.push(`serial "${serialText.slice(0, 60)}" is a placeholder that cannot name a machine`);
  const uuidText = str('uuid');
  const uuid = uuidText === null ? null : canonicalUuid(uuidText);
  if (uuidText !== null && uuid === null) problems.push(`uuid "${uuidText.slice(0, 60)}" is not a usable SMBIOS UUID`);
  const macValue = cells['mac'];
  const macTexts = (Array.isArray(macValue) ? macValue.map(String) : [str('mac') ?? ''])
    .flatMap((m) => m.split(/[\s;,|]+/))
    .filter(Boolean);
  const macs: string[] = [];
  for (const m of macTexts) {
    const c = canonicalMac(m);
    if (c === null) problems.push(`mac "${m.slice(0, 40)}" is not a MAC address like aa:bb:cc:dd:ee:ff`);
    else if (!macs.includes(c)) macs.push(c);
  }
  if (!serialText && !uuidText && macTexts.length === 0) problems.push('no serial, mac or uuid: nothing to recognise the machine by');
  const hostText = str('hostname');
  const hostname = hostText === null ? null : hostText.toLowerCase();
  if (hostname !== null && !HOSTNAME.test(hostname))
    problems.push(`hostname "${hostText!.slice(0, 60)}" is not a host name (letters, digits, "-", dots between labels)`);
  const ip = str('ip');
  if (ip !== null && (ipToInt(ip) === null || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)))
    problems.push(`ip "${ip.slice(0, 40)}" is not an IPv4 address`);
  const policy = str('policy');
  if (policy !== null && !POLICY.test(policy)) problems.push(`policy "${policy.slice(0, 60)}" is not a policy name`);
  const bmc = str('bmc_address');
  if (bmc !== null && !BMC.test(bmc)) problems.push(`bmc_address "${bmc.slice(0, 60)}" is not a host name or address`);
  const metadata: ManifestRow['metadata'] = {};
  for (const [k, v] of Object.entries(extra)) {
    if (v === null || v === undefined || v === '') continue;
    if (typeof v === 'object') {
      problems.push(`${k}: a metadata value must be text, a number or true/false`);
      continue;
    }
    const val = typeof v === 'string' ? v : (v as number | boolean);
    if (typeof val === 'string') {
      if (val.length > MAX_CELL) problems.push(`${k}: longer than ${MAX_CELL} characters`);
      if (hasControl(val)) problems.push(`${k}: holds control characters`);
      if (FORMULA.test(val)) warnings.push(`${k}: "${val.slice(0, 30)}" starts like a spreadsheet formula; stored as plain text`);
    }
    metadata[k] = val;
  }
  for (const k of MANIFEST_COLUMNS) {
    const v = cells[k];
    if (typeof v === 'string' && FORMULA.test(v.trim()) && !problems.some((p) => p.startsWith(k)))
      warnings.push(`${k} starts like a spreadsheet formula`);
  }
  return { row, serial, uuid, macs, hostname, ip, policy, bmc_address: bmc, metadata, problems, warnings };
}

/** Column name -> understood column or metadata key; throws on a header that cannot be used. */
function headerKeys(header: string[]): string[] {
  const keys = header.map((h, i) => {
    const t = h.trim();
    if (t === '') bad(`column ${i + 1} of the header has no name`);
    if (t.length > MAX_KEY) bad(`column ${i + 1} of the header is longer than ${MAX_KEY} characters`);
    const low = t.toLowerCase();
    return (MANIFEST_COLUMNS as readonly string[]).includes(low) ? low : t;
  });
  const twice = keys.find((k, i) => keys.indexOf(k) !== i);
  if (twice) bad(`the header names column "${twice}" twice`);
  if (!keys.some((k) => k === 'serial' || k === 'mac' || k === 'uuid'))
    bad('the header has no serial, mac or uuid column: nothing would recognise the machines');
  return keys;
}

/** Read a CSV manifest. */
export function readCsvManifest(text: string): ManifestFile {
  let table;
  try {
    table = parseCsv(text, { maxRows: MAX_MANIFEST_ROWS + 1, maxColumns: MAX_COLUMNS, maxCellChars: MAX_CELL });
  } catch (e) {
    if (e instanceof CsvError) return bad(`CSV ${e.message}`);
    throw e;
  }
  const [header, ...body] = table.rows;
  if (!header) return bad('the file is empty (a header row is needed: serial, mac, hostname, ip, policy, bmc_address, ...)');
  const keys = headerKeys(header);
  const rows = body.map((cells, i) => {
    const rowNo = i + 2;
    const known: Record<string, unknown> = {};
    const extra: Record<string, unknown> = {};
    cells.forEach((c, j) => {
      const k = keys[j];
      if (k === undefined) return;
      if ((MANIFEST_COLUMNS as readonly string[]).includes(k)) known[k] = c;
      else extra[k] = c;
    });
    const r = checkRow(rowNo, known, extra);
    if (cells.length > keys.length)
      r.problems.push(`${cells.length} cells, but the header has ${keys.length} columns (a comma in an unquoted cell?)`);
    return r;
  });
  return { columns: keys, rows };
}

/** Read a JSON manifest: an array of machines, or `{ "machines": [...] }`; unknown keys and `metadata` become metadata. */
export function readJsonManifest(text: string): ManifestFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return bad(`JSON: ${(e as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : doc && typeof doc === 'object' ? (doc as { machines?: unknown }).machines : undefined;
  if (!Array.isArray(list)) return bad('JSON: expected an array of machines, or an object with "machines": [...]');
  if (list.length > MAX_MANIFEST_ROWS) bad(`more than ${MAX_MANIFEST_ROWS} machines`);
  const columns = new Set<string>();
  const rows = list.map((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m))
      return { ...checkRow(i + 1, {}, {}), problems: ['a machine must be an object like {"serial": "...", "hostname": "..."}'] };
    const known: Record<string, unknown> = {};
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
      columns.add(k);
      const low = k.toLowerCase();
      if ((MANIFEST_COLUMNS as readonly string[]).includes(low)) known[low] = v;
      else if (k === 'metadata' && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(extra, v);
      else if (k.length <= MAX_KEY) extra[k] = v;
    }
    return checkRow(i + 1, known, extra);
  });
  return { columns: [...columns], rows };
}

/** Mark rows that name a machine, an address or a host name an earlier row already named. */
export function markDuplicates(rows: ManifestRow[]): void {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const keys = [
      ...(r.serial ? [`serial ${r.serial}`] : []),
      ...(r.uuid ? [`uuid ${r.uuid}`] : []),
      ...r.macs.map((m) => `mac ${m}`),
      ...(r.ip ? [`ip ${r.ip}`] : []),
      ...(r.hostname ? [`hostname ${r.hostname}`] : []),
    ];
    for (const k of keys) {
      const first = seen.get(k);
      if (first !== undefined) r.problems.push(`${k} is also in row ${first}`);
      else seen.set(k, r.row);
    }
  }
}
