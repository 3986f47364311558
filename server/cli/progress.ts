/** A one-line progress bar on stderr for long CLI work (imports). */

/** A progress callback that redraws `label file [####....] 42% 12.3 MiB`. */
export function progressBar(label: string): (file: string, done: number, total: number) => void {
  return (file, done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : 0;
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
    process.stderr.write(`\r${label} ${file} [${bar}] ${pct}% ${(done / 1048576).toFixed(1)} MiB`);
    if (done >= total) process.stderr.write('\n');
  };
}
