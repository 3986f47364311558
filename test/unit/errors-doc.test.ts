import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { errorsDoc } from '../../scripts/gen-errors-doc.ts';
import { ERRORS } from '../../server/errors/catalog.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

/** Every .ts file under a folder. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalog', () => {
  it('docs/errors.md is in step with the catalog (regenerate with scripts/gen-errors-doc.ts)', () => {
    expect(fs.readFileSync(path.join(REPO_ROOT, 'docs', 'errors.md'), 'utf8')).toBe(errorsDoc());
  });
  it('every entry says the fix and has an HTTP status', () => {
    for (const [code, e] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^CC_ERR_[A-Z0-9_]+$/);
      expect(e.fix.length).toBeGreaterThan(15);
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
  });
  it('every code is raised somewhere in server/ or agent/ (a documented code nobody throws misleads the operator)', () => {
    const catalog = path.join(REPO_ROOT, 'server', 'errors', 'catalog.ts');
    const code = ['server', 'agent']
      .flatMap((d) => sources(path.join(REPO_ROOT, d)))
      .filter((f) => f !== catalog)
      // Comments do not raise anything.
      .map((f) => fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:])\/\/.*$/gm, '$1'))
      .join('\n');
    const unused = Object.keys(ERRORS).filter((c) => !new RegExp(`['"]${c}['"]|ERRORS\\.${c}\\b`).test(code));
    expect(unused).toEqual([]);
  });
});
