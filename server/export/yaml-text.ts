/**
 * A YAML writer for exports whose every scalar is node text (hostile: docs/security.md).
 * Every key and every string is written double-quoted (YAML 1.2 7.3.1 / YAML 1.1,
 * which PyYAML and so Ansible read), escaping `\`, `"` and every character YAML
 * does not allow printed raw or would read as a line break (C0, DEL, C1 incl.
 * NEL, U+2028/2029, BOM, lone surrogates): a hostname like `a: b\n- evil` stays
 * one string and can never add a key or a list item. Numbers, booleans and null
 * are written plainly. Pure: values in, text out.
 */

/** A value the writer accepts. */
export type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [k: string]: YamlValue | undefined };

/** YAML 1.1 5.1 printable set, minus the line breaks NEL (U+0085), LS (U+2028), PS (U+2029) and the BOM. */
function safeChar(c: number): boolean {
  return (
    (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff && c !== 0x2028 && c !== 0x2029) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff)
  );
}

/** One string as a double-quoted YAML scalar. */
export function yamlString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (safeChar(c)) out += s[i];
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i]! + s[i + 1]!; // a valid pair: a printable non-BMP character
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff)
      out += '\\uFFFD'; // a lone surrogate is not a character
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out + '"';
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return yamlString(v);
}

const isScalar = (v: YamlValue): v is string | number | boolean | null => v === null || typeof v !== 'object';

function emit(v: YamlValue, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v as readonly YamlValue[]) {
      if (isScalar(item)) out.push(`${indent}- ${scalar(item)}`);
      else if (Array.isArray(item) ? item.length === 0 : Object.keys(item).length === 0)
        out.push(`${indent}- ${Array.isArray(item) ? '[]' : '{}'}`);
      else {
        out.push(`${indent}-`);
        emit(item, indent + '  ', out);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, YamlValue | undefined>)) {
    if (val === undefined) continue;
    const key = yamlString(k);
    if (isScalar(val)) out.push(`${indent}${key}: ${scalar(val)}`);
    else if (Array.isArray(val) ? val.length === 0 : Object.keys(val).length === 0)
      out.push(`${indent}${key}: ${Array.isArray(val) ? '[]' : '{}'}`);
    else {
      out.push(`${indent}${key}:`);
      emit(val, indent + '  ', out);
    }
  }
}

/** One YAML document (no `---`), ending in a newline. */
export function yamlDocument(v: YamlValue): string {
  if (isScalar(v)) return scalar(v) + '\n';
  const out: string[] = [];
  emit(v, '', out);
  return out.join('\n') + '\n';
}

/** Several documents in one stream, each opened with `---` (YAML 1.2 9.2). */
export function yamlStream(docs: readonly YamlValue[]): string {
  return docs.map((d) => '---\n' + yamlDocument(d)).join('');
}

/** Plain data (from JSON) as a YamlValue: undefined and functions dropped, non-finite numbers null. */
export function toYamlValue(v: unknown): YamlValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(toYamlValue);
  if (typeof v === 'object') {
    const o: Record<string, YamlValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') o[k] = toYamlValue(x);
    return o;
  }
  return String(v);
}
