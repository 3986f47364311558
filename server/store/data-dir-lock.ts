/**
 * One process per data dir (issue 10 §4). Two processes appending to the same
 * nedb files lose acknowledged writes, so whoever opens the store first holds
 * an exclusive flock(2) on `<dataDir>/crashcart.lock` until it exits.
 *
 * Node has no flock binding, so util-linux's `flock(1)` takes the lock on a
 * descriptor this process opened and passes it as fd 3: a flock belongs to the
 * open file description, which stays ours when the helper exits. The kernel
 * drops it when our last descriptor closes, which includes SIGKILL and power
 * loss: a dead holder never blocks the next start (no stale PID files).
 * The descriptor is O_CLOEXEC (libuv's default), so children never inherit it.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ccError } from '../errors/cc-error.ts';

/** Lock file name in the data dir. */
export const LOCK_FILE = 'crashcart.lock';
/** flock(1) exit status we ask for when the lock is taken (sysexits EX_TEMPFAIL). */
const HELD = 75;

/** Who holds the lock; a running `serve` adds where its admin API answers. */
export interface LockHolder {
  pid: number;
  what: string;
  since: string;
  /** Admin base URL of a running appliance. */
  adminUrl?: string;
  /** SHA-256 fingerprint of its admin TLS certificate (null = plain HTTP on loopback). */
  fingerprint?: string | null;
}

/** A held data-dir lock. */
export interface DataDirLock {
  readonly file: string;
  /** Publish more about the holder (the admin URL once it listens). */
  update(extra: Partial<LockHolder>): Promise<void>;
  /** Release (close the descriptor). */
  release(): Promise<void>;
}

function flockFd(fd: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(HELD), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(ccError('CC_ERR_DATA_DIR', e.code === 'ENOENT' ? 'flock(1) is missing: install util-linux' : `flock: ${e.message}`)),
    );
    child.once('exit', (code) =>
      code === 0 || code === HELD ? resolve(code) : reject(ccError('CC_ERR_DATA_DIR', `flock: ${err.trim()}`)),
    );
  });
}

/** Read who holds (or last held) the lock; null when unreadable. */
export async function readLockHolder(dataDir: string): Promise<LockHolder | null> {
  try {
    const v = JSON.parse(await fs.readFile(path.join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;
    return typeof v.pid === 'number' && typeof v.what === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Take the lock or throw CC_ERR_DATA_DIR_LOCKED naming the holder. */
export async function lockDataDir(dataDir: string, what: string): Promise<DataDirLock> {
  const file = path.join(dataDir, LOCK_FILE);
  let h: fs.FileHandle;
  try {
    await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
    h = await fs.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  } catch (e) {
    throw ccError('CC_ERR_DATA_DIR', `${file}: ${(e as Error).message}`);
  }
  let code: number;
  try {
    code = await flockFd(h.fd);
  } catch (e) {
    await h.close();
    throw e;
  }
  if (code === HELD) {
    await h.close();
    const holder = await readLockHolder(dataDir);
    const who = holder ? `${holder.what} (pid ${holder.pid}, since ${holder.since})` : 'another process';
    throw ccError('CC_ERR_DATA_DIR_LOCKED', `${dataDir} is in use by ${who}`, { holder });
  }
  let info: LockHolder = { pid: process.pid, what, since: new Date().toISOString() };
  // Readers may see a half-written file for an instant: they retry on a parse error.
  const write = async () => {
    const b = Buffer.from(JSON.stringify(info) + '\n');
    await h.truncate(0);
    await h.write(b, 0, b.length, 0);
  };
  await write();
  let released = false;
  return {
    file,
    async update(extra) {
      info = { ...info, ...extra };
      await write();
    },
    async release() {
      if (released) return;
      released = true;
      await h.close();
    },
  };
}
