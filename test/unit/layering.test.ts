import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('layering', () => {
  it('nothing in server/, agent/ or contract/ imports Electron or the renderer', () => {
    const offenders: string[] = [];
    for (const f of ['server', 'agent', 'contract'].flatMap((d) => files(path.join(REPO_ROOT, d)))) {
      const src = fs.readFileSync(f, 'utf8');
      if (/from\s+['"](electron|electron\/[^'"]*)['"]|require\(['"]electron['"]\)|from\s+['"][./]*(electron|renderer)\//.test(src))
        offenders.push(path.relative(REPO_ROOT, f));
    }
    expect(offenders).toEqual([]);
  });
  it('the contract imports nothing from server/ or agent/', () => {
    for (const f of files(path.join(REPO_ROOT, 'contract')))
      expect(fs.readFileSync(f, 'utf8')).not.toMatch(/from\s+['"]\.\.\/(server|agent)\//);
  });
});
