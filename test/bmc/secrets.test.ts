import { afterAll, describe, it, expect, beforeEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SecretBox, secretRecord } from '../../server/secrets/secret-box.ts';
import { KEY_FILE, loadKeyRing, retireKeys, rotateKey } from '../../server/secrets/key-file.ts';
import { CcError } from '../../server/errors/cc-error.ts';

const made: string[] = [];
/** A temp dir removed after the file's tests. */
const tmp = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

let dir: string;
beforeEach(() => {
  dir = tmp('cc-bmc-secrets-');
});

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CcError);
    return (e as CcError).code;
  }
  throw new Error('expected a CcError');
};
const asyncCode = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CcError);
    return (e as CcError).code;
  }
  throw new Error('expected a CcError');
};
/** Flip one bit of field `i` (1 = key id ... 4 = tag) of an envelope, keeping it well-formed. */
function flip(env: string, i: number): string {
  const parts = env.split(':');
  const b = Buffer.from(parts[i]!, 'base64url');
  b[0] = b[0]! ^ 1;
  parts[i] = b.toString('base64url');
  return parts.join(':');
}

describe('secrets at rest', () => {
  it('creates a 0600 key ring on first use and seals with a fresh IV each time', async () => {
    const box = await SecretBox.open(dir);
    const st = fs.statSync(path.join(dir, KEY_FILE));
    expect(st.mode & 0o777).toBe(0o600);
    const rec = secretRecord('node', 7, 'bmc.password');
    const a = box.seal('hunter2', rec);
    const b = box.seal('hunter2', rec);
    expect(a).toMatch(/^ccs1:k1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(box.open(a, rec)).toBe('hunter2');
    expect(box.open(b, rec)).toBe('hunter2');
    expect(a).not.toContain('hunter2');
    // The ring is reused, not replaced, on the next start.
    const again = await SecretBox.open(dir);
    expect(again.open(a, rec)).toBe('hunter2');
    expect(fs.readdirSync(dir)).toEqual([KEY_FILE]);
  });

  it('refuses to open with another key (another data dir)', async () => {
    const mine = await SecretBox.open(dir);
    const other = await SecretBox.open(tmp('cc-bmc-secrets-'));
    const env = mine.seal('s3cret', 'node/1/bmc.password');
    expect(code(() => other.open(env, 'node/1/bmc.password'))).toBe('CC_ERR_SECRET_UNREADABLE');
  });

  it('refuses a tampered IV, ciphertext or tag, and a malformed envelope', async () => {
    const box = await SecretBox.open(dir);
    const env = box.seal('s3cret-longer-than-one-block', 'node/1/bmc.password');
    for (const i of [2, 3, 4]) expect(code(() => box.open(flip(env, i), 'node/1/bmc.password'))).toBe('CC_ERR_SECRET_UNREADABLE');
    const cut = env.split(':');
    cut[3] = cut[3]!.slice(0, -2);
    expect(code(() => box.open(cut.join(':'), 'node/1/bmc.password'))).toBe('CC_ERR_SECRET_UNREADABLE');
    for (const bad of ['', 'plain text', 'ccs9:k1:a:b:c', 'ccs1:k1:!!:b:c', `${env}:extra`])
      expect(code(() => box.open(bad, 'node/1/bmc.password'))).toBe('CC_ERR_SECRET_UNREADABLE');
  });

  it('binds a ciphertext to its record: copied onto another node or field it does not open', async () => {
    const box = await SecretBox.open(dir);
    const env = box.seal('node-one-password', secretRecord('node', 1, 'bmc.password'));
    expect(code(() => box.open(env, secretRecord('node', 2, 'bmc.password')))).toBe('CC_ERR_SECRET_UNREADABLE');
    expect(code(() => box.open(env, secretRecord('node', 1, 'other.password')))).toBe('CC_ERR_SECRET_UNREADABLE');
    expect(() => secretRecord('node', '1/2', 'x')).toThrow(RangeError);
  });

  it('rotates the key: old envelopes still open, reseal moves them to the new key, retiring the old key ends them', async () => {
    const rec = 'node/3/bmc.password';
    const old = (await SecretBox.open(dir)).seal('before-rotation', rec);
    const ring = await rotateKey(dir);
    expect(ring.current).toBe('k2');
    expect(fs.statSync(path.join(dir, KEY_FILE)).mode & 0o777).toBe(0o600);
    const box = await SecretBox.open(dir);
    expect(box.open(old, rec)).toBe('before-rotation');
    expect(box.keyIdOf(box.seal('x', rec))).toBe('k2');
    // Relabelling an old envelope with the new key id fails: the key id is authenticated.
    expect(code(() => box.open(old.replace(':k1:', ':k2:'), rec))).toBe('CC_ERR_SECRET_UNREADABLE');
    const moved = box.reseal(old, rec);
    expect(box.keyIdOf(moved)).toBe('k2');
    expect(box.reseal(moved, rec)).toBe(moved);
    await retireKeys(dir, new Set());
    const after = await SecretBox.open(dir);
    expect(after.open(moved, rec)).toBe('before-rotation');
    expect(code(() => after.open(old, rec))).toBe('CC_ERR_SECRET_UNREADABLE');
    expect(fs.readdirSync(dir)).toEqual([KEY_FILE]);
  });

  it('tightens a key file others can read, and refuses a symlink or a damaged file', async () => {
    await SecretBox.open(dir);
    const file = path.join(dir, KEY_FILE);
    fs.chmodSync(file, 0o644);
    const box = await SecretBox.open(dir);
    expect(box.keyFileWasLoose).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect((await SecretBox.open(dir)).keyFileWasLoose).toBe(false);

    const elsewhere = tmp('cc-bmc-secrets-');
    fs.renameSync(file, path.join(elsewhere, 'planted'));
    fs.symlinkSync(path.join(elsewhere, 'planted'), file);
    expect(await asyncCode(loadKeyRing(dir))).toBe('CC_ERR_SECRET_KEY');
    fs.unlinkSync(file);

    for (const text of ['not json', '{"format":"crashcart-keyring/1","current":"k1","keys":{"k1":"c2hvcnQ="}}', '{"format":"x"}']) {
      fs.writeFileSync(file, text, { mode: 0o600 });
      expect(await asyncCode(loadKeyRing(dir))).toBe('CC_ERR_SECRET_KEY');
    }
  });

  it('agrees on one key when many callers create the ring at once', async () => {
    const boxes = await Promise.all(Array.from({ length: 12 }, () => SecretBox.open(dir)));
    const env = boxes[0]!.seal('race', 'node/9/bmc.password');
    for (const b of boxes) expect(b.open(env, 'node/9/bmc.password')).toBe('race');
    expect(fs.readdirSync(dir)).toEqual([KEY_FILE]);
  });
});
