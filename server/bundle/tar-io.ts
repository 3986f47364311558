/**
 * Streaming a ustar archive to and from bytes on disk (the codec in ustar.ts stays pure): a writer
 * that appends members to any byte sink (a file being exported, an HTTP response) and a reader that
 * walks a bundle file member by member, bounded by the file's real size, handing each member's data
 * over in chunks. Neither ever holds a whole disk image in memory.
 */
import type { FileHandle } from 'node:fs/promises';
import fs from 'node:fs';
import { MalformedPacket } from '../net/malformed.ts';
import { BLOCK, decodeHeader, encodeHeader, isZeroBlock, padding, trailerLength, type TarHeader } from './ustar.ts';

/** Where the writer's bytes go. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** Chunk size for copying member data (a few pages; large enough that syscalls do not dominate). */
const CHUNK = 1 << 20;

/** The header of a plain file member as bundles write it (GNU tar's field conventions). */
export function fileHeader(path: string, size: number, mtime: number): TarHeader {
  return {
    path,
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    mtime,
    typeflag: '0',
    type: 'file',
    linkname: '',
    uname: '',
    gname: '',
    devmajor: 0,
    devminor: 0,
  };
}

/** Appends members to a sink; `finish` writes the end-of-archive blocks. */
export class TarWriter {
  private used = 0;

  constructor(
    private readonly sink: ByteSink,
    private readonly mtime: number,
  ) {}

  /** Bytes written so far. */
  get written(): number {
    return this.used;
  }

  /** A member from memory. */
  async addBuffer(path: string, data: Uint8Array): Promise<void> {
    await this.sink.write(encodeHeader(fileHeader(path, data.length, this.mtime)));
    await this.sink.write(data);
    await this.sink.write(new Uint8Array(padding(data.length)));
    this.used += BLOCK + data.length + padding(data.length);
  }

  /** A member streamed from a file of `size` bytes (each chunk also to `tap`); fails if the file no longer has that size. */
  async addFile(path: string, file: string, size: number, onBytes?: (n: number) => void, tap?: ByteSink): Promise<void> {
    await this.sink.write(encodeHeader(fileHeader(path, size, this.mtime)));
    let n = 0;
    for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK })) {
      const c = chunk as Buffer;
      if (n + c.length > size) throw new Error(`${file} grew while it was being bundled`);
      await tap?.write(c);
      await this.sink.write(c);
      n += c.length;
      onBytes?.(n);
    }
    if (n !== size) throw new Error(`${file} shrank while it was being bundled (${n} of ${size} bytes)`);
    await this.sink.write(new Uint8Array(padding(size)));
    this.used += BLOCK + size + padding(size);
  }

  /** Two zero blocks and the padding to a whole record. */
  async finish(): Promise<void> {
    const t = trailerLength(this.used);
    await this.sink.write(new Uint8Array(t));
    this.used += t;
  }
}

/** One member as the reader found it. */
export interface TarMember {
  header: TarHeader;
  /** Offset of the header block in the file. */
  offset: number;
  dataOffset: number;
}

/** Walks a tar file. */
export class TarReader {
  private pos = 0;
  private ended = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  private async block(at: number): Promise<Uint8Array> {
    if (this.size - at < BLOCK) throw new MalformedPacket('ustar', at, 'archive ends in the middle of a block (truncated copy?)');
    const b = new Uint8Array(BLOCK);
    const { bytesRead } = await this.fh.read(b, 0, BLOCK, at);
    if (bytesRead !== BLOCK) throw new MalformedPacket('ustar', at, 'short read');
    return b;
  }

  /** The next member, or null at a correct end of archive (zero blocks, then only zeros to the end). */
  async next(): Promise<TarMember | null> {
    if (this.ended) return null;
    const at = this.pos;
    const b = await this.block(at);
    if (isZeroBlock(b)) {
      const second = await this.block(at + BLOCK);
      if (!isZeroBlock(second)) throw new MalformedPacket('ustar', at + BLOCK, 'one zero block, then more data');
      await this.requireZerosFrom(at + 2 * BLOCK);
      this.ended = true;
      return null;
    }
    const header = decodeHeader(b);
    const dataOffset = at + BLOCK;
    if (header.size > this.size - dataOffset)
      throw new MalformedPacket('ustar', at + 124, `member "${header.path}" claims ${header.size} bytes, ${this.size - dataOffset} remain`);
    this.pos = dataOffset + header.size + padding(header.size);
    return { header, offset: at, dataOffset };
  }

  private async requireZerosFrom(at: number): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    for (let p = at; p < this.size;) {
      const { bytesRead } = await this.fh.read(buf, 0, Math.min(buf.length, this.size - p), p);
      for (let i = 0; i < bytesRead; i++)
        if (buf[i] !== 0) throw new MalformedPacket('ustar', p + i, 'data after the end-of-archive blocks');
      if (bytesRead === 0) break;
      p += bytesRead;
    }
  }

  /** A member's bytes as a stream of fresh chunks (for writers that take a Readable). */
  async *chunks(m: TarMember): AsyncGenerator<Buffer> {
    for (let done = 0; done < m.header.size;) {
      const want = Math.min(CHUNK, m.header.size - done);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.fh.read(buf, 0, want, m.dataOffset + done);
      if (bytesRead === 0) throw new MalformedPacket('ustar', m.dataOffset + done, 'file ended inside a member');
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
      done += bytesRead;
    }
  }

  /** Hand a member's bytes to `onChunk`, in order (the chunk buffer is reused: copy what you keep). */
  async data(m: TarMember, onChunk: (c: Uint8Array) => void | Promise<void>): Promise<void> {
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(m.header.size, 1)));
    for (let done = 0; done < m.header.size;) {
      const want = Math.min(buf.length, m.header.size - done);
      const { bytesRead } = await this.fh.read(buf, 0, want, m.dataOffset + done);
      if (bytesRead === 0) throw new MalformedPacket('ustar', m.dataOffset + done, 'file ended inside a member');
      await onChunk(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  }
}
