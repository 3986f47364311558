/**
 * A write stream onto a file that is already open, and a way to wait until the stream has closed it. A stream
 * from `fs.createWriteStream` opens its file by itself, later: when a pipeline into it fails at once (an upload
 * refused at its first chunk, a client gone before its first byte), the pipeline settles before that open has
 * made the file, a cleanup that removes the file finds nothing, and the open then makes it for good (a
 * `.undionly.kpxe.XXXX.upload` was left in the loaders folder that way, once in a CI run). Opened here first, the
 * file exists before a byte moves, and after `settled()` nothing writes to it or holds it: a removal then is final.
 */
import fs, { type WriteStream } from 'node:fs';
import fsp from 'node:fs/promises';

/** The stream to pipe into, and `settled()`: destroys it (if the pipeline left it open) and waits for its close. */
export interface FileSink {
  readonly out: WriteStream;
  settled(): Promise<void>;
}

/** Open `file` with `flags` ('w' truncates, 'wx' refuses an existing file) and `mode`; the stream owns the handle. */
export async function openFileSink(file: string, flags: 'w' | 'wx', mode: number): Promise<FileSink> {
  return sinkOf((await fsp.open(file, flags, mode)).createWriteStream());
}

/**
 * The same, opened synchronously: for a caller holding a stream that is already flowing and has no error listener
 * until it is piped (what `peek` returns), where an `await` before the pipe would let its error go uncaught.
 */
export function openFileSinkSync(file: string, flags: 'w' | 'wx', mode: number): FileSink {
  return sinkOf(fs.createWriteStream(file, { fd: fs.openSync(file, flags, mode) }));
}

function sinkOf(out: WriteStream): FileSink {
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  return {
    out,
    settled: () => {
      out.destroy();
      return closed;
    },
  };
}
