/**
 * TFTP names the core answers itself (TftpHooks.tftpVirtual): the per-node GRUB configuration, rendered
 * for the asking node, and the files GRUB loads by name, which live outside the TFTP roots: each
 * architecture's microkernel (`mk/`, `mk/arm64/`) and imported OS images (`images/NAME/FILE`). Confinement
 * to those folders is the TFTP server's (resolve-path.ts).
 */
import path from 'node:path';
import type { CoreContext } from '../core/context.ts';
import type { TftpVirtualFile } from '../core/boot-hooks.ts';
import { parseGrubNodeName } from '../boot/grub-names.ts';
import { findMicrokernelFor, MICROKERNEL_ARCHES, type MkArch } from '../boot/microkernel-select.ts';
import { grubNodeConfig } from './grub-boot.ts';
import { DHCP_SOURCE } from './node-guard.ts';

const MK_FILES = new Set(['vmlinuz', 'initrd.img']);

/** The microkernel folder and file a `mk/...` name means, or null. */
function mkFile(ctx: CoreContext, name: string): TftpVirtualFile | null {
  const parts = name.split('/');
  const [arch, file] = parts.length === 2 ? (['amd64', parts[1]] as const) : parts.length === 3 ? [parts[1], parts[2]] : [null, null];
  if (!arch || !file || !MK_FILES.has(file) || !MICROKERNEL_ARCHES.includes(arch as MkArch)) return null;
  const mk = findMicrokernelFor(ctx.config.dataDir, ctx.config.microkernelDir, arch as MkArch);
  return mk ? { dir: mk.dir, name: file } : null;
}

/** The core's answer for a TFTP name, or null (served from the roots). */
export async function tftpVirtual(ctx: CoreContext, ip: string, name: string): Promise<TftpVirtualFile | null> {
  const n = name.replace(/^\/+/, '');
  const grub = parseGrubNodeName(n);
  // A read request is one datagram from any source address it names: a record it creates is charged to the bucket
  // DHCP sightings share, not to `ip` (a fresh forged address would be a fresh bucket: docs/security.md "Node plane").
  if (grub) return { data: Buffer.from(await grubNodeConfig(ctx, grub, ip, DHCP_SOURCE)) };
  if (n.startsWith('mk/')) return mkFile(ctx, n);
  if (n.startsWith('images/')) return { dir: path.join(ctx.config.dataDir, 'images'), name: n.slice('images/'.length) };
  return null;
}
