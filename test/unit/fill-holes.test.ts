// Files stored without their run of zeros: the build's cut (build/microkernel/holes.mjs, pure) and the microkernel's
// build/microkernel/rootfs/fill-holes run by the busybox the image ships, which must give back the very bytes, with
// the run as a hole (no blocks), and refuse a damaged image or a line that is not its format.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBin, microkernelBusybox, ROOT } from '../security/microkernel-sandbox.ts';

interface Cut {
  head: Uint8Array;
  tail: Uint8Array;
  offset: number;
  size: number;
}
const { cutZeroRun, holeLine, MIN_HOLE_BYTES, HOLE_ALIGN } = (await import(
  pathToFileURL(path.join(ROOT, 'build/microkernel/holes.mjs')).href
)) as {
  cutZeroRun: (b: Uint8Array, o?: { minBytes?: number; align?: number }) => Cut | null;
  holeLine: (c: { size: number; offset: number }, file: string, tail: string) => string;
  MIN_HOLE_BYTES: number;
  HOLE_ALIGN: number;
};

const FILL = path.join(ROOT, 'build/microkernel/rootfs/fill-holes');
const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Random non-zero bytes (a zero inside them would be a run of its own). */
const noise = (n: number) => Uint8Array.from(randomBytes(n), (b) => b | 1);
/** head, `zeros` zero bytes, tail. */
const withRun = (head: number, zeros: number, tail: number) => {
  const b = new Uint8Array(head + zeros + tail);
  b.set(noise(head), 0);
  b.set(noise(tail), head + zeros);
  return b;
};

describe('cutZeroRun (holes.mjs)', () => {
  it('cuts the longest run, narrowed to page boundaries, and the parts put back give the bytes', () => {
    // noise, a 1.5 MiB run, noise, the 3 MiB run, noise: the second run is cut, the first stays in the head.
    const first = 4096 + 1.5 * MiB + 904;
    const b = new Uint8Array(first + 3 * MiB + 7001);
    b.set(noise(4096), 0);
    b.set(noise(904), 4096 + 1.5 * MiB);
    b.set(noise(7001), first + 3 * MiB);
    const c = cutZeroRun(b)!;
    expect(c.head.length).toBe(Math.ceil(first / HOLE_ALIGN) * HOLE_ALIGN);
    expect(c.offset).toBe(Math.floor((first + 3 * MiB) / HOLE_ALIGN) * HOLE_ALIGN);
    expect(c.size).toBe(b.length);
    const back = new Uint8Array(c.size);
    back.set(c.head, 0);
    back.set(c.tail, c.offset);
    expect(sha(back)).toBe(sha(b));
  });

  it('leaves a file alone when no run is MIN_HOLE_BYTES long after narrowing', () => {
    expect(cutZeroRun(noise(4 * MiB))).toBeNull();
    // Long enough before narrowing, too short after it: 1 MiB starting one byte past a page.
    expect(cutZeroRun(withRun(4097, MIN_HOLE_BYTES, 10))).toBeNull();
    expect(cutZeroRun(withRun(4096, MIN_HOLE_BYTES, 10))).not.toBeNull();
  });

  it('a run that reaches the end leaves an empty tail', () => {
    const c = cutZeroRun(withRun(4096, 2 * MiB, 0))!;
    expect(c.tail.length).toBe(0);
    expect(c.offset).toBe(c.size);
  });

  it('the line names plain absolute paths only (fill-holes splits it on spaces)', () => {
    expect(holeLine({ size: 10, offset: 8 }, '/usr/bin/node', '/usr/lib/crashcart/holes/node.tail')).toBe(
      '10 8 /usr/bin/node /usr/lib/crashcart/holes/node.tail',
    );
    for (const bad of ['usr/bin/node', '/usr/bin/no de', '/x;reboot', '/$(id)'])
      expect(() => holeLine({ size: 1, offset: 1 }, bad, '/t')).toThrow(/not a plain absolute path/);
  });
});

describe('fill-holes (rootfs, the image busybox)', () => {
  let t = '';
  let bb = '';
  beforeAll(() => {
    t = mkdtempSync(path.join(os.tmpdir(), 'cc-fill-holes-'));
    bb = makeBin(t, microkernelBusybox().file);
  });
  afterAll(() => rmSync(t, { recursive: true, force: true }));

  /** A fresh tree under t/<name> holding `files` cut as the build cuts them, and the holes list; `lines` replaces it. */
  function tree(name: string, files: Record<string, Uint8Array>, lines?: string[]) {
    const root = path.join(t, name);
    const out: string[] = [];
    for (const [file, bytes] of Object.entries(files)) {
      const c = cutZeroRun(bytes)!;
      const tailFile = `/usr/lib/crashcart/holes/${path.basename(file)}.tail`;
      for (const [p, b] of [
        [file, c.head],
        [tailFile, c.tail],
      ] as const) {
        mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
        writeFileSync(path.join(root, p), b);
      }
      out.push(holeLine(c, file, tailFile));
    }
    mkdirSync(path.join(root, 'etc/crashcart'), { recursive: true });
    writeFileSync(path.join(root, 'etc/crashcart/holes'), (lines ?? out).map((l) => `${l}\n`).join(''));
    return root;
  }
  const run = (root: string) =>
    spawnSync(bb, ['sh', FILL], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: path.join(t, 'bin'), ROOT: root, ETC: path.join(root, 'etc') },
    });

  it('gives back the same bytes, the run as a hole, and removes the tail files', () => {
    const node = withRun(3 * MiB + 123, 6 * MiB, 2 * MiB + 5);
    const other = withRun(9000, 2 * MiB, 0);
    const root = tree('ok', { '/usr/bin/node': node, '/usr/lib/other.bin': other });
    const r = run(root);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(sha(readFileSync(path.join(root, 'usr/bin/node')))).toBe(sha(node));
    expect(sha(readFileSync(path.join(root, 'usr/lib/other.bin')))).toBe(sha(other));
    const st = statSync(path.join(root, 'usr/bin/node'));
    // Allocated blocks cover the head and the tail, not the 6 MiB between them.
    expect(st.blocks * 512).toBeLessThan(node.length - 5 * MiB);
    expect(existsSync(path.join(root, 'usr/lib/crashcart/holes/node.tail'))).toBe(false);
  });

  it('an image whose list and files disagree: reported with the fix, exit 1', () => {
    const node = withRun(8192, 2 * MiB, 100);
    const c = cutZeroRun(node)!;
    const root = tree('damaged', { '/usr/bin/node': node }, [
      holeLine({ ...c, size: c.size + 1 }, '/usr/bin/node', '/usr/lib/crashcart/holes/node.tail'),
    ]);
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`fill-holes: /usr/bin/node came out ${node.length} bytes, not ${node.length + 1}`);
    expect(r.stderr).toContain('rebuild it (npm run build:microkernel)');
  });

  it('a missing tail: reported, exit 1', () => {
    const root = tree('no-tail', { '/usr/bin/node': withRun(8192, 2 * MiB, 100) });
    rmSync(path.join(root, 'usr/lib/crashcart/holes/node.tail'));
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'fill-holes: /usr/bin/node could not be put back from /usr/lib/crashcart/holes/node.tail: the image is damaged, rebuild it',
    );
  });

  it('skips a line that is not its format and runs nothing in it', () => {
    const root = tree('odd', {}, [
      '12 x /usr/bin/node /t',
      '12 8 usr/bin/node /t',
      '12 8 /usr/bin/node',
      '12 8 /a /b extra',
      '$(touch PWNED) 8 /a /b',
      '1 1 /a `touch PWNED2`',
    ]);
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.stderr.match(/skipped a line/g)).toHaveLength(6);
    expect(existsSync(path.join(root, 'PWNED'))).toBe(false);
    expect(existsSync(path.join(root, 'PWNED2'))).toBe(false);
  });

  it('no list (an image built before holes): nothing to do, exit 0', () => {
    const root = path.join(t, 'none');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    const r = run(root);
    expect([r.status, r.stderr]).toEqual([0, '']);
  });
});
