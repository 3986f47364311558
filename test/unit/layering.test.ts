/**
 * The layers (docs/development.md): contract/ at the bottom, shared by server/, agent/ and renderer/;
 * electron/ is the shell around the server and the built renderer. Every import specifier, type-only
 * ones included, is resolved to the top-level folder it lands in and checked against the table below.
 */
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const LAYERS = ['contract', 'server', 'agent', 'electron', 'renderer'] as const;
type Layer = (typeof LAYERS)[number];

/**
 * For each layer, the other layers it must not import from (relative paths), the packages it must not load, and
 * the exceptions: server/lab/ simulates a rack by running the REAL agent loop in-process; and the pure parsers
 * of tool output in agent/parse/ (no I/O, no imports outside contract/) are shared with the server, which reads
 * the same `ipmitool` text from a BMC that the agent reads from its own (one parser per format).
 */
const SHARED_PURE = ['agent/parse/'];
const FORBIDDEN: Record<Layer, { layers: Layer[]; packages: RegExp[]; except?: { under: string; may: Layer } }> = {
  contract: { layers: ['server', 'agent', 'electron', 'renderer'], packages: [/^electron(\/|$)/, /^vue(\/|$)/, /^fastify(\/|$)/] },
  server: {
    layers: ['agent', 'electron', 'renderer'],
    packages: [/^electron(\/|$)/],
    except: { under: 'server/lab/', may: 'agent' },
  },
  agent: { layers: ['server', 'electron', 'renderer'], packages: [/^electron(\/|$)/] },
  electron: { layers: ['renderer'], packages: [] },
  renderer: { layers: ['server', 'agent', 'electron'], packages: [/^electron(\/|$)/] },
};

function sources(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(p);
    return /\.(ts|mts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every module specifier in a file: static imports and re-exports (type-only too), import() and require(). */
function specifiers(src: string): string[] {
  const out: string[] = [];
  const re =
    /\bfrom\s+['"]([^'"]+)['"]|\bimport\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of src.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return out;
}

/** The layer a relative specifier resolves into, or null when it leaves the five layers (test/, scripts/...). */
function layerOf(file: string, spec: string): Layer | null {
  const top = path.relative(REPO_ROOT, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
  return (LAYERS as readonly string[]).includes(top ?? '') ? (top as Layer) : null;
}

/** Every import that breaks the table, as "file -> specifier". */
function offences(layer: Layer): string[] {
  const rule = FORBIDDEN[layer];
  const bad: string[] = [];
  for (const f of sources(path.join(REPO_ROOT, layer))) {
    const rel = path.relative(REPO_ROOT, f).split(path.sep).join('/');
    for (const spec of specifiers(fs.readFileSync(f, 'utf8'))) {
      const into = spec.startsWith('.') ? layerOf(f, spec) : null;
      const target = spec.startsWith('.')
        ? path
            .relative(REPO_ROOT, path.resolve(path.dirname(f), spec))
            .split(path.sep)
            .join('/')
        : '';
      const excused =
        (rule.except && rel.startsWith(rule.except.under) && into === rule.except.may) ||
        (layer === 'server' && SHARED_PURE.some((s) => target.startsWith(s)));
      const hit = spec.startsWith('.') ? !excused && rule.layers.includes(into as Layer) : rule.packages.some((p) => p.test(spec));
      if (hit) bad.push(`${rel} -> ${spec}`);
    }
  }
  return bad;
}

describe('layering', () => {
  for (const layer of LAYERS) {
    it(`${layer}/ imports nothing from ${FORBIDDEN[layer].layers.join(', ')}`, () => {
      expect(offences(layer)).toEqual([]);
    });
  }

  it('the renderer loads TypeBox for types only (its bundle carries none)', () => {
    const bad: string[] = [];
    for (const f of sources(path.join(REPO_ROOT, 'renderer'))) {
      const src = fs.readFileSync(f, 'utf8');
      for (const m of src.matchAll(/\bimport\s+(type\s+)?[^;]*?from\s+['"](typebox|@sinclair\/typebox)(\/[^'"]*)?['"]/g))
        if (!m[1]) bad.push(path.relative(REPO_ROOT, f));
    }
    expect(bad).toEqual([]);
  });

  it('the checker sees what it must: each kind of import is found and resolved', () => {
    const src = [
      `import type { A } from '../server/a.ts';`,
      `export { b } from "../agent/b.ts";`,
      `import './side-effect.ts';`,
      `const c = await import('../electron/c.ts');`,
      `const d = require('electron');`,
    ].join('\n');
    expect(specifiers(src)).toEqual(['../server/a.ts', '../agent/b.ts', './side-effect.ts', '../electron/c.ts', 'electron']);
    const file = path.join(REPO_ROOT, 'renderer/src/x.ts');
    expect(layerOf(file, '../../server/a.ts')).toBe('server');
    expect(layerOf(file, '../../contract/routes.ts')).toBe('contract');
    expect(layerOf(file, './y.ts')).toBe('renderer');
    expect(layerOf(file, '../../test/support/z.ts')).toBeNull();
  });
});

describe('shared pure parsers', () => {
  it('agent/parse/ imports nothing but other parsers and contract/ (so the server may share them)', () => {
    const bad: string[] = [];
    for (const f of sources(path.join(REPO_ROOT, 'agent', 'parse'))) {
      for (const spec of specifiers(fs.readFileSync(f, 'utf8'))) {
        const target = spec.startsWith('.')
          ? path
              .relative(REPO_ROOT, path.resolve(path.dirname(f), spec))
              .split(path.sep)
              .join('/')
          : spec;
        const ok = target.startsWith('agent/parse/') || target.startsWith('contract/') || /^node:(crypto|buffer)$/.test(target);
        if (!ok) bad.push(`${path.relative(REPO_ROOT, f)} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
