/**
 * Before nedb loads a datafile: cut a torn last line (a write that a SIGKILL
 * or power loss interrupted). Such a write was never acknowledged, because
 * acknowledged writes are fsync'ed after the whole line was appended.
 */
import fs from 'node:fs/promises';

/** Result of a repair: how many bytes were cut (0 = file was clean). */
export interface RepairResult {
  file: string;
  cutBytes: number;
}

/** Truncate `file` after its last newline if the tail is incomplete. */
export async function repairTornTail(file: string): Promise<RepairResult> {
  let h: fs.FileHandle;
  try {
    h = await fs.open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, cutBytes: 0 };
    throw e;
  }
  try {
    const { size } = await h.stat();
    if (size === 0) return { file, cutBytes: 0 };
    // Scan backwards in chunks for the last newline.
    const chunk = Buffer.alloc(64 * 1024);
    let pos = size;
    let lastNl = -1;
    while (pos > 0 && lastNl < 0) {
      const start = Math.max(0, pos - chunk.length);
      const len = pos - start;
      await h.read(chunk, 0, len, start);
      const i = chunk.subarray(0, len).lastIndexOf(0x0a);
      if (i >= 0) lastNl = start + i;
      pos = start;
    }
    const keep = lastNl + 1;
    if (keep === size) return { file, cutBytes: 0 };
    await h.truncate(keep);
    await h.sync();
    return { file, cutBytes: size - keep };
  } finally {
    await h.close();
  }
}
