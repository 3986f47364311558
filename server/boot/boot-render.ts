/**
 * A boot decision (server/nodes/boot-flow.ts) written in the language of the loader that asked: an iPXE
 * script or a GRUB configuration. Pure.
 */
import type { BootDecision } from '../nodes/boot-flow.ts';
import { errorStateScript, localDiskScript, microkernelScript, noMicrokernelScript } from './scripts.ts';
import {
  grubErrorStateCfg,
  grubLocalDiskCfg,
  grubMicrokernelCfg,
  grubNoMicrokernelCfg,
  grubTaskCfg,
  grubTaskUnsupportedCfg,
} from './grub-scripts.ts';
import { taskKernelBoot } from './task-grub.ts';
import type { MkArch } from './microkernel-select.ts';

/** The iPXE script for a decision. */
export function renderIpxe(d: BootDecision, publicUrl: string): string {
  switch (d.action) {
    case 'local-disk':
      return localDiskScript({ publicUrl, nodeId: d.nodeId, hostname: d.hostname });
    case 'error':
      return errorStateScript({ publicUrl, nodeId: d.nodeId });
    case 'task':
      return d.ipxe;
    case 'microkernel':
      return microkernelScript({
        publicUrl,
        nodeId: d.nodeId,
        token: d.token,
        version: d.version,
        mkPath: d.mkPath,
        kernel: d.ipxeKernel,
      });
    case 'no-microkernel':
      return noMicrokernelScript({ publicUrl, nodeId: d.nodeId, token: d.token, arch: d.arch });
  }
}

/**
 * Kernel console arguments per architecture. x86: the VGA console and the first UART. arm64: none, so the
 * kernel takes the console the firmware names in its ACPI SPCR table (PL011 on most servers and QEMU virt,
 * an 8250 on others), which no fixed name gets right everywhere.
 */
const CONSOLE: Readonly<Record<MkArch, string[]>> = { amd64: ['console=tty0', 'console=ttyS0,115200n8'], arm64: [] };

/** The GRUB configuration for a decision; `problem` is set when a task had no GRUB form (said in an event too). */
export function renderGrub(d: BootDecision, publicUrl: string, mac: string): { cfg: string; problem: string | null } {
  switch (d.action) {
    case 'local-disk':
      return { cfg: grubLocalDiskCfg({ nodeId: d.nodeId, hostname: d.hostname }), problem: null };
    case 'error':
      return { cfg: grubErrorStateCfg({ publicUrl, nodeId: d.nodeId }), problem: null };
    case 'task': {
      const t = taskKernelBoot(d.ipxe, publicUrl);
      if (!t.ok) return { cfg: grubTaskUnsupportedCfg({ publicUrl, nodeId: d.nodeId, task: d.task, why: t.why }), problem: t.why };
      if ('localDisk' in t) return { cfg: grubLocalDiskCfg({ nodeId: d.nodeId, hostname: null }), problem: null };
      return { cfg: grubTaskCfg({ publicUrl, nodeId: d.nodeId, task: d.task, boot: t.boot }), problem: null };
    }
    case 'microkernel':
      return {
        cfg: grubMicrokernelCfg({
          publicUrl,
          nodeId: d.nodeId,
          token: d.token,
          version: d.version,
          mkPath: d.mkPath,
          mac,
          console: CONSOLE[d.arch],
        }),
        problem: null,
      };
    case 'no-microkernel':
      return { cfg: grubNoMicrokernelCfg({ publicUrl, nodeId: d.nodeId, arch: d.arch }), problem: null };
  }
}
