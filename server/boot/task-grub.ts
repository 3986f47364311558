/**
 * A task's rendered iPXE script as a GRUB kernel boot: tasks are written once, in iPXE (server/tasks/), and
 * most of them are "kernel URL args, initrd URL, boot". That shape is read out of the script here, and the
 * URLs of files the appliance serves become the TFTP names GRUB can read (Debian's network GRUB has no
 * HTTP). Anything else (sanboot, chain, iPXE settings, files from other servers) has no GRUB form and is
 * refused with the reason. Pure.
 */
import type { GrubKernelBoot } from './grub-scripts.ts';

/** The kernel boot of a script, a boot from the local disk, or why neither. */
export type TaskBoot = { ok: true; boot: GrubKernelBoot } | { ok: true; localDisk: true } | { ok: false; why: string };

/** The words of an iPXE command line before its `||` / `&&` tail, options (`--name x`) removed. */
function words(line: string): string[] {
  const cut = line.split(/\s(?:\|\||&&)(?:\s|$)/)[0] ?? '';
  const out: string[] = [];
  const parts = cut.trim().split(/\s+/);
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.startsWith('--')) {
      // iPXE's image options: --name N, --timeout T take a value; --autofree, --replace do not.
      if (!p.includes('=') && (p === '--name' || p === '--timeout')) i++;
      continue;
    }
    out.push(p);
  }
  return out;
}

/** Node-plane folders TFTP also serves under the same names (server/nodes/tftp-virtual.ts). */
const TFTP_FOLDERS = ['/images/', '/mk/'];

/** The TFTP name of a node-plane URL the appliance serves over TFTP too, else null. */
export function tftpNameOf(url: string, publicUrl: string): string | null {
  const base = publicUrl.replace(/\/+$/, '');
  if (!url.startsWith(`${base}/`)) return null;
  const p = url.slice(base.length);
  return TFTP_FOLDERS.some((f) => p.startsWith(f)) && !p.includes('?') ? p.slice(1) : null;
}

/** Read the first `kernel` and the `initrd`s before the first `boot` of an iPXE script. */
export function taskKernelBoot(ipxe: string, publicUrl: string): TaskBoot {
  let kernelLine: string[] | null = null;
  const initrds: string[] = [];
  for (const raw of ipxe.split('\n')) {
    const line = raw.trim();
    if (kernelLine && /^boot(\s|$)/.test(line)) break;
    if (!kernelLine && /^(kernel|imgexec|chain)\s/.test(line)) {
      if (!line.startsWith('kernel')) return { ok: false, why: 'it chains to another script or image, which only iPXE can run' };
      kernelLine = words(line);
    } else if (kernelLine && /^initrd\s/.test(line)) {
      const url = words(line)[0];
      if (url && !initrds.includes(url)) initrds.push(url);
    } else if (!kernelLine && (/^sanboot\s.*--drive 0x80/.test(line) || /(^|&&\s*)exit(\s|$)/.test(line))) {
      // The local-disk idiom (UEFI: leave, so the firmware boots its next entry; BIOS: drive 0x80): GRUB's `exit`.
      return { ok: true, localDisk: true };
    } else if (!kernelLine && /^sanboot\s/.test(line)) return { ok: false, why: 'it boots a SAN disk with sanboot' };
  }
  if (!kernelLine || !kernelLine[0]) return { ok: false, why: 'it loads no kernel' };
  const [kernelUrl, ...rest] = kernelLine;
  // `initrd=NAME` names an image iPXE registered; GRUB passes its initrd itself (and the EFI stub would look for a file).
  const args = rest.filter((a) => !/^initrd=/.test(a));
  const all = [kernelUrl, ...initrds, ...args];
  if (all.some((w) => w.includes('${'))) return { ok: false, why: 'its kernel line uses iPXE settings (${...}) that GRUB cannot fill' };
  const kernel = tftpNameOf(kernelUrl, publicUrl);
  const names = initrds.map((u) => tftpNameOf(u, publicUrl));
  if (kernel === null || names.some((n) => n === null))
    return { ok: false, why: `it loads files from outside the appliance's images (GRUB reads only what ${publicUrl} serves over TFTP)` };
  return { ok: true, boot: { kernel, initrds: names as string[], args } };
}
