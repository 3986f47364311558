// English-only ICU data for the image's Node runtime. The official Node binary embeds ICU's full data
// package (symbol icudtNN_dat, 31.6 MiB in Node 20.20: 9.3 MB of the image after compression) for every
// locale; the agent formats nothing for people. The build rewrites that package in place, code untouched,
// with the selection Node's own small-icu builds ship (locale data for root and en only; no break-iterator,
// language/region-name, RBNF, transliteration or converter data): the ICU package format (a table of
// contents, then the items) is unchanged, so ICU finds the smaller package where the full one was, and the
// zeros after it compress to nothing. Debian's icupkg (icu-devtools) removes the items, refusing removals
// that kept items depend on. On a host of the same architecture the result is run and checked.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileOffsetOf, symbolsMatching } from './elf.mjs';

/** Locales kept in the locale-keyed trees (what Node's small-icu keeps). */
const KEEP_LOCALES = new Set(['root', 'en']);
/** Trees dropped whole: break iterators and dictionaries, display names, spell-out rules, transliterators. */
const DROP_TREES = new Set(['brkitr', 'lang', 'region', 'rbnf', 'translit']);
/** Top-level items dropped: converter aliases, character names, spoof-check data, postal codes, gender lists. */
const DROP_ITEMS = new Set(['cnvalias.icu', 'unames.icu', 'confusables.cfu', 'postalCodeData.res', 'genderList.res']);
/** Every tree's structure: the shared key pool and the locale index stay. */
const STRUCTURE = new Set(['pool.res', 'res_index.res']);
/** A locale bundle: a language code with optional script/region/variant parts ("de_", "sr_Latn_BA", "root"). */
const LOCALE_BUNDLE = /^(root|[a-z]{2,3}(_[A-Za-z0-9]*)*)\.res$/;

/** Items of a package listing to remove (pure; `items` are "tree/name" or "name"). */
export function itemsToRemove(items) {
  return items.filter((it) => {
    const slash = it.lastIndexOf('/');
    const tree = slash < 0 ? '' : it.slice(0, slash);
    const name = it.slice(slash + 1);
    if (DROP_TREES.has(tree)) return true;
    if (tree === '' && (name.endsWith('.cnv') || DROP_ITEMS.has(name))) return true;
    if (STRUCTURE.has(name)) return false;
    const m = LOCALE_BUNDLE.exec(name);
    return m !== null && !KEEP_LOCALES.has(m[1]);
  });
}

/** Outputs a trimmed Node must give (the same as the full one except that German now falls back to English). */
const SMOKE = {
  code: `const r = {
    date: new Intl.DateTimeFormat('en-US', { dateStyle: 'full', timeZone: 'UTC' }).format(0),
    zone: new Date(0).toLocaleString('en-US', { timeZone: 'America/New_York' }),
    num: (1234567.891).toLocaleString('en-US'),
    cur: new Intl.NumberFormat('en', { style: 'currency', currency: 'EUR' }).format(1),
    nfd: '\\u00e9'.normalize('NFD').length,
    sort: ['b', 'a', 'C'].sort(new Intl.Collator('en').compare).join(''),
    fallback: new Intl.DateTimeFormat('de', { month: 'long', timeZone: 'UTC' }).format(new Date(9e8)),
    latin1: new TextDecoder('latin1').decode(Uint8Array.of(0xe9)),
    idn: new URL('http://b\\u00fccher.example/').hostname,
    prop: /\\p{Script=Greek}/u.test('\\u03b1'),
    upper: 'stra\\u00dfe'.toUpperCase(),
  };
  process.stdout.write(JSON.stringify(r));`,
  expected: {
    date: 'Thursday, January 1, 1970',
    zone: '12/31/1969, 7:00:00 PM',
    num: '1,234,567.891',
    cur: '€1.00',
    nfd: 2,
    sort: 'abC',
    fallback: 'January',
    latin1: 'é',
    idn: 'xn--bcher-kva.example',
    prop: true,
    upper: 'STRASSE',
  },
};

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/**
 * Trim the ICU data of `stripped` (a Buffer, modified in place) using the symbol table of `unstripped`
 * (a file path: the same binary before strip). `runnable`: the binary can run on this host, so check it.
 * Returns what the manifest records.
 */
export function trimNodeIcu(stripped, unstripped, runnable, workDir) {
  const unstrippedBuf = readFileSync(unstripped);
  const syms = symbolsMatching(unstrippedBuf, /^icudt\d+_dat$/);
  if (syms.length !== 1)
    throw new Error(
      `expected one ICU data symbol (icudtNN_dat) in the node binary, found ${syms.length}\n  fix: this Node release packs ICU differently; update build/microkernel/icu-trim.mjs`,
    );
  const [{ name, value, size }] = syms;
  const at = fileOffsetOf(stripped, value);
  // The package header: headerSize, magic 0xda 0x27, then UDataInfo with dataFormat "CmnD" at byte 12.
  if (at < 0 || stripped[at + 2] !== 0xda || stripped[at + 3] !== 0x27 || stripped.toString('latin1', at + 12, at + 16) !== 'CmnD')
    throw new Error(`${name} in the stripped node is not an ICU common data package\n  fix: update build/microkernel/icu-trim.mjs`);
  // icupkg names the package after the file and checks that item names start with it: icudt78l.
  const pkg = `${name.replace(/_dat$/, '')}l`;
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const full = path.join(workDir, `${pkg}.dat`);
  const small = path.join(workDir, 'out', `${pkg}.dat`);
  mkdirSync(path.dirname(small));
  const original = Buffer.from(stripped.subarray(at, at + size));
  writeFileSync(full, original);
  const icupkg = (args) => {
    const r = spawnSync('icupkg', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error) throw new Error(`cannot run icupkg: ${r.error.message}\n  fix: apt-get install icu-devtools`);
    if (r.status !== 0)
      throw new Error(
        `icupkg ${args[0]} failed: ${(r.stderr || r.stdout).trim()}\n  fix: update the filter in build/microkernel/icu-trim.mjs`,
      );
    return r.stdout;
  };
  const items = icupkg(['-l', full])
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const remove = itemsToRemove(items);
  writeFileSync(path.join(workDir, 'remove.txt'), remove.join('\n') + '\n');
  icupkg(['-r', path.join(workDir, 'remove.txt'), full, small]);
  const trimmed = readFileSync(small);
  if (trimmed.length >= size) throw new Error(`the trimmed ICU package (${trimmed.length} bytes) is not smaller than ${size}`);
  trimmed.copy(stripped, at);
  stripped.fill(0, at + trimmed.length, at + size);
  if (runnable) {
    const bin = path.join(workDir, 'node');
    writeFileSync(bin, stripped, { mode: 0o755 });
    const r = spawnSync(bin, ['-e', SMOKE.code], { encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC' } });
    let got = null;
    try {
      got = JSON.parse(r.stdout);
    } catch {
      /* reported below */
    }
    if (JSON.stringify(got) !== JSON.stringify(SMOKE.expected))
      throw new Error(
        `node with trimmed ICU data gave ${r.stdout || r.stderr}, expected ${JSON.stringify(SMOKE.expected)}\n  fix: the filter in build/microkernel/icu-trim.mjs removed something this Node needs`,
      );
  }
  rmSync(workDir, { recursive: true, force: true });
  return {
    symbol: name,
    bytes_before: size,
    bytes_after: trimmed.length,
    items_kept: items.length - remove.length,
    items_removed: remove.length,
    sha256_before: sha256(original),
    sha256_after: sha256(trimmed),
    checked_by_running: runnable,
  };
}
