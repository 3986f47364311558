/**
 * The secrets key ring: random 256-bit AES keys in one 0600 file in the data
 * dir (`secrets.key`), created on first use. Creation is crash-safe and race
 * safe: the ring is written to a temp file, fsync'ed, then linked into place
 * (link(2) refuses to replace, so two processes starting at once agree on one
 * key) and the directory is fsync'ed so the name survives power loss.
 * Rotation writes a new ring the same way with rename(2), keeping old keys so
 * envelopes sealed with them still open until they are re-sealed.
 */
import fs from 'node:fs/promises';
import { constants as FS } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ccError } from '../errors/cc-error.ts';
import { KEY_BYTES, KEY_ID_PATTERN } from './envelope.ts';

/** File name of the key ring in the data dir. */
export const KEY_FILE = 'secrets.key';
const FORMAT = 'crashcart-keyring/1';

/** The loaded ring. */
export interface KeyRing {
  /** Key id new envelopes are sealed with. */
  current: string;
  keys: ReadonlyMap<string, Buffer>;
  /** Set when the file was readable by others and its mode was tightened to 0600 (the caller logs it). */
  tightened: boolean;
}

const keyError = (file: string, why: string) => ccError('CC_ERR_SECRET_KEY', `${file}: ${why}`);

function parseRing(file: string, text: string): Omit<KeyRing, 'tightened'> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw keyError(file, 'not JSON');
  }
  const d = doc as { format?: unknown; current?: unknown; keys?: unknown };
  if (d.format !== FORMAT || typeof d.current !== 'string' || typeof d.keys !== 'object' || d.keys === null)
    throw keyError(file, `not a ${FORMAT} file`);
  const keys = new Map<string, Buffer>();
  for (const [id, b64] of Object.entries(d.keys as Record<string, unknown>)) {
    const k = typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (!KEY_ID_PATTERN.test(id) || k.length !== KEY_BYTES) throw keyError(file, `key ${JSON.stringify(id)} is not ${KEY_BYTES} bytes`);
    keys.set(id, k);
  }
  if (!keys.has(d.current)) throw keyError(file, `current key ${JSON.stringify(d.current)} is missing`);
  return { current: d.current, keys };
}

const ringText = (current: string, keys: ReadonlyMap<string, Buffer>) =>
  `${JSON.stringify({ format: FORMAT, current, keys: Object.fromEntries([...keys].map(([id, k]) => [id, k.toString('base64')])) }, null, 2)}\n`;

async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, FS.O_RDONLY | FS.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Write `text` to a fresh 0600 temp file beside `file`, fsync'ed; returns its path. */
async function writeTemp(file: string, text: string): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const h = await fs.open(tmp, FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW, 0o600);
  try {
    await h.writeFile(text);
    await h.sync();
  } finally {
    await h.close();
  }
  return tmp;
}

async function readRing(file: string): Promise<KeyRing | null> {
  let h: fs.FileHandle;
  try {
    // O_NOFOLLOW: a symlink planted in the data dir must not redirect us to another file.
    h = await fs.open(file, FS.O_RDONLY | FS.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw keyError(file, code === 'ELOOP' ? 'is a symbolic link' : (e as Error).message);
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) throw keyError(file, 'not a regular file');
    const tightened = (st.mode & 0o077) !== 0;
    if (tightened) await h.chmod(0o600);
    return { ...parseRing(file, await h.readFile('utf8')), tightened };
  } finally {
    await h.close();
  }
}

/** Load the key ring from `dataDir`, creating it with one random key on first use. */
export async function loadKeyRing(dataDir: string): Promise<KeyRing> {
  const file = path.join(dataDir, KEY_FILE);
  const found = await readRing(file);
  if (found) return found;
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tmp = await writeTemp(file, ringText('k1', new Map([['k1', randomBytes(KEY_BYTES)]])));
  try {
    await fs.link(tmp, file);
  } catch (e) {
    // Another process created the ring first: use its key, not ours.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw keyError(file, (e as Error).message);
  } finally {
    await fs.unlink(tmp);
  }
  await fsyncDir(dataDir);
  const ring = await readRing(file);
  if (!ring) throw keyError(file, 'vanished while being created');
  return ring;
}

/** Add a fresh key and make it current (old keys stay for opening old envelopes); returns the new ring. */
export async function rotateKey(dataDir: string): Promise<KeyRing> {
  const file = path.join(dataDir, KEY_FILE);
  const ring = await loadKeyRing(dataDir);
  let n = ring.keys.size + 1;
  while (ring.keys.has(`k${n}`)) n++;
  const keys = new Map(ring.keys).set(`k${n}`, randomBytes(KEY_BYTES));
  const tmp = await writeTemp(file, ringText(`k${n}`, keys));
  await fs.rename(tmp, file);
  await fsyncDir(dataDir);
  return { current: `k${n}`, keys, tightened: false };
}

/** Drop keys no envelope uses any more (after every secret was re-sealed with the current key). */
export async function retireKeys(dataDir: string, keep: ReadonlySet<string>): Promise<KeyRing> {
  const file = path.join(dataDir, KEY_FILE);
  const ring = await loadKeyRing(dataDir);
  const keys = new Map([...ring.keys].filter(([id]) => id === ring.current || keep.has(id)));
  const tmp = await writeTemp(file, ringText(ring.current, keys));
  await fs.rename(tmp, file);
  await fsyncDir(dataDir);
  return { current: ring.current, keys, tightened: false };
}
