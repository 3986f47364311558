/** Pure wording of TFTP events for the UI boot timeline. */

/** "74 KB", "1.5 MB", "0 B": short human size (1 KB = 1024 B, as iPXE prints). */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** "0.1 s", "12 s". */
export function humanSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** "TFTP undionly.kpxe 74 KB, blksize 1432, 0.1 s" (windowsize shown when > 1). */
export function finishText(file: string, bytes: number, blksize: number, windowsize: number, ms: number): string {
  const win = windowsize > 1 ? `, windowsize ${windowsize}` : '';
  return `TFTP ${file} ${humanBytes(bytes)}, blksize ${blksize}${win}, ${humanSeconds(ms)}`;
}

/** "TFTP undionly.kpxe started, blksize 1432". */
export function startText(file: string, blksize: number, windowsize: number): string {
  return `TFTP ${file} started, blksize ${blksize}${windowsize > 1 ? `, windowsize ${windowsize}` : ''}`;
}

/** "TFTP undionly.kpxe failed: reason". */
export function errorText(file: string, why: string): string {
  return `TFTP ${file} failed: ${why}`;
}
