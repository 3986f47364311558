/**
 * The bundle's node field rules (server/bundle/node-fields.ts) against the node record as the sources
 * declare it: every `interface NodeDoc` block (server/store/docs.ts and each module extending it) is read
 * here, so a field added anywhere without a rule fails this test (and tsc). A field whose name says it holds
 * a credential, or whose type holds a sealed `password_enc`, must not be carried as it is.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { NODE_FIELD_RULES, nodeForBundle, nodeFromBundle } from '../../server/bundle/node-fields.ts';
import { SECRET_FIELD_PATTERN } from '../../server/secrets/redact.ts';
import type { NodeDoc } from '../../server/store/docs.ts';

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The bodies of every `interface NAME {...}` in `text` (braces matched). */
function interfaceBodies(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`interface ${name}(?:<[^>]*>)? (?:extends [^{]+)?\\{`, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < text.length && depth > 0; i++) depth += text[i] === '{' ? 1 : text[i] === '}' ? -1 : 0;
    out.push(text.slice(m.index + m[0].length, i - 1));
  }
  return out;
}

/** The top-level fields of an interface body, each with the text of its type. */
function fields(body: string): Map<string, string> {
  const out = new Map<string, string>();
  const code = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  let depth = 0;
  let current: string | null = null;
  for (const line of code.split('\n')) {
    const m = depth === 0 ? /^\s*([A-Za-z_$][\w$]*)\??\s*:(.*)$/.exec(line) : null;
    if (m) {
      current = m[1]!;
      out.set(current, m[2]!);
    } else if (current) out.set(current, out.get(current)! + line);
    for (const ch of line) depth += ch === '{' ? 1 : ch === '}' ? -1 : 0;
  }
  return out;
}

const all = ['server', 'contract'].flatMap((d) => sources(path.join(REPO_ROOT, d))).map((f) => fs.readFileSync(f, 'utf8'));
const declared = new Map<string, string>();
for (const text of all) for (const body of interfaceBodies(text, 'NodeDoc')) for (const [k, t] of fields(body)) declared.set(k, t);
/** Types that hold a sealed password: every interface with a `password_enc` field. */
const sealedTypes = all.flatMap((text) =>
  [...text.matchAll(/interface (\w+)[^{]*\{/g)]
    .map((m) => m[1]!)
    .filter((n) => interfaceBodies(text, n).some((b) => fields(b).has('password_enc'))),
);

describe('bundle node field rules', () => {
  it('finds the node record declarations (the reader works)', () => {
    for (const k of ['id', 'macs', 'agent_token_hash', 'install_token_hash', 'bmc', 'bmc_enrolment', 'manifest_claim_held'])
      expect(declared.has(k), k).toBe(true);
    expect(sealedTypes).toEqual(expect.arrayContaining(['BmcRecord', 'BmcEnrolmentDoc']));
  });

  it('has a rule for every declared node field, and none for a field nobody declares', () => {
    expect(Object.keys(NODE_FIELD_RULES).sort()).toEqual([...declared.keys()].sort());
  });

  it('never carries a credential or a sealed password as it is', () => {
    const rules = NODE_FIELD_RULES as Record<string, string>;
    for (const [k, type] of declared) {
      if (SECRET_FIELD_PATTERN.test(k)) expect(rules[k], `${k}: a credential`).toBe('issued');
      if (sealedTypes.some((t) => new RegExp(`\\b${t}\\b`).test(type))) expect(rules[k], `${k}: ${type.trim()}`).toBe('sealed');
    }
  });

  it('applies the rules field by field: credentials cleared, sealed passwords only with the key, strays left out', () => {
    const doc: Record<string, unknown> = { stray_undeclared: 'STRAY' };
    for (const [k, rule] of Object.entries(NODE_FIELD_RULES))
      doc[k] =
        rule === 'sealed' ? { address: `ADDR-${k}`, password_enc: `ccs1:SEALED-${k}` } : k === 'enrol_token_verified' ? true : `VALUE-${k}`;
    const plain = nodeForBundle(doc as NodeDoc, false);
    const withKey = nodeForBundle(doc as NodeDoc, true);
    for (const [k, rule] of Object.entries(NODE_FIELD_RULES)) {
      if (rule === 'keep') expect([plain[k], withKey[k]], k).toEqual([doc[k], doc[k]]);
      if (rule === 'issued') expect([plain[k], withKey[k]], k).toEqual(k === 'enrol_token_verified' ? [false, false] : [null, null]);
      if (rule === 'sealed') {
        expect(plain[k], k).toEqual({ address: `ADDR-${k}`, password_enc: '' });
        expect(withKey[k], k).toEqual(doc[k]);
      }
    }
    expect('stray_undeclared' in plain || 'stray_undeclared' in withKey).toBe(false);
    expect(JSON.stringify(plain)).not.toContain('SEALED-');
    // An import clears what another appliance issued and keeps the rest as the bundle has it.
    const imported = nodeFromBundle(doc as NodeDoc);
    expect(imported).toMatchObject({
      install_token_hash: null,
      agent_token_hash: null,
      enrol_token_verified: false,
      stray_undeclared: 'STRAY',
    });
    expect(imported.bmc).toEqual(doc['bmc']);
  });
});
