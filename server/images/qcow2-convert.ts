/**
 * qcow2 -> raw with qemu-img (Debian package qemu-utils). A qcow2 file can name other files: a backing
 * file or an external data file (QEMU's qcow2 specification, header fields backing_file_offset and
 * the "external data file" extension). An uploaded image must never make the appliance read its own
 * files, so either one is refused before conversion, and the format is given explicitly (-f qcow2),
 * never probed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireTools, runTool } from './tool-run.ts';
import { ccError } from '../errors/cc-error.ts';

/** Convert `src` (qcow2) to a sparse raw `dest`; `maxBytes` bounds the virtual size. */
export async function qcow2ToRaw(src: string, dest: string, maxBytes: number, onPercent?: (pct: number) => void): Promise<void> {
  const { 'qemu-img': qemuImg } = requireTools(['qemu-img'], 'importing a qcow2 image');
  let info: Record<string, unknown>;
  try {
    const { stdout } = await promisify(execFile)(qemuImg!, ['info', '-f', 'qcow2', '--output=json', src], { maxBuffer: 1 << 20 });
    info = JSON.parse(stdout) as Record<string, unknown>;
  } catch (e) {
    throw ccError(
      'CC_ERR_DISK_IMAGE_INVALID',
      `qemu-img cannot read the qcow2 image: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`,
    );
  }
  const specific = (info['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data ?? {};
  if (info['backing-filename'] !== undefined || info['full-backing-filename'] !== undefined)
    throw ccError('CC_ERR_DISK_IMAGE_INVALID', 'the qcow2 image has a backing file; flatten it first (`qemu-img convert -O qcow2 IN OUT`)');
  if (specific['data-file'] !== undefined)
    throw ccError('CC_ERR_DISK_IMAGE_INVALID', 'the qcow2 image uses an external data file; flatten it first');
  const size = Number(info['virtual-size']);
  if (!Number.isSafeInteger(size) || size <= 0 || size > maxBytes)
    throw ccError('CC_ERR_DISK_IMAGE_INVALID', `virtual size ${info['virtual-size']} is outside 1..${maxBytes} bytes`);
  await runTool('qemu-img', ['convert', '-p', '-f', 'qcow2', '-O', 'raw', src, dest], {
    code: 'CC_ERR_DISK_IMAGE_INVALID',
    what: 'qcow2 conversion',
    // qemu-img -p prints "    (12.34/100%)" and redraws with carriage returns.
    onLine: (l) => {
      const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(l);
      if (m) onPercent?.(Number(m[1]));
    },
  });
}
