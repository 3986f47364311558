import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { errorsDoc } from '../../scripts/gen-errors-doc.ts';
import { ERRORS } from '../../server/errors/catalog.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

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
});
