/**
 * The microkernel version the node plane reports is read from manifest.json once per file version
 * (server/boot/microkernel-assets.ts): an import that replaces the manifest, an edit in place, a removed or
 * broken manifest are each seen by the very next lookup.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findMicrokernel } from '../../server/boot/microkernel-assets.ts';

let dir: string;
let mk: string;
const version = () => findMicrokernel(dir, mk)?.version;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-mk-version-'));
  mk = path.join(dir, 'mk');
  fs.mkdirSync(mk);
  fs.writeFileSync(path.join(mk, 'vmlinuz'), 'k');
  fs.writeFileSync(path.join(mk, 'initrd.img'), 'i');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('microkernel version from manifest.json', () => {
  it('follows every change of the file at the next lookup', () => {
    expect(version()).toBe('unversioned');
    fs.writeFileSync(path.join(mk, 'manifest.json'), JSON.stringify({ version: 'aaaa' }));
    expect(version()).toBe('aaaa');
    expect(version()).toBe('aaaa');
    // An import: a new file renamed over the old one (a new inode).
    fs.writeFileSync(path.join(mk, 'manifest.json.new'), JSON.stringify({ version: 'bbbb' }));
    fs.renameSync(path.join(mk, 'manifest.json.new'), path.join(mk, 'manifest.json'));
    expect(version()).toBe('bbbb');
    // Edited in place, same length: the change time moves.
    fs.writeFileSync(path.join(mk, 'manifest.json'), JSON.stringify({ version: 'cccc' }));
    fs.utimesSync(path.join(mk, 'manifest.json'), new Date(), new Date(Date.now() + 5000));
    expect(version()).toBe('cccc');
    // Only an initrd digest: its first 12 hex digits.
    fs.writeFileSync(path.join(mk, 'manifest.json'), JSON.stringify({ initrd: { sha256: 'f'.repeat(64) } }));
    expect(version()).toBe('f'.repeat(12));
    fs.writeFileSync(path.join(mk, 'manifest.json'), '{ not json');
    expect(version()).toBe('unversioned');
    fs.rmSync(path.join(mk, 'manifest.json'));
    expect(version()).toBe('unversioned');
  });
});
