/**
 * The iPXE scripts the node plane answers with. Pure: inputs in, text out. Only the appliance's own
 * values (URLs, node ids, tokens it minted) are written as they are; anything else passes through
 * boot-text.ts (docs/identity.md 4).
 */
import { retryBlock, errorBlock } from './ipxe-retry.ts';
import { bootValue, ipxeText } from './boot-text.ts';
import { KERNEL_ARGS } from '../../contract/index.ts';
import type { IpxeKernel } from './microkernel-assets.ts';

/**
 * `/boot.ipxe`: what DHCP hands to iPXE. Makes sure some NIC has an address
 * (DHCP on every NIC, with back-off), then asks `/boot` what to do, telling the
 * appliance who this machine is.
 */
export function bootIpxeScript(publicUrl: string): string {
  const q = [
    'mac=${netX/mac}',
    'uuid=${uuid}',
    'serial=${serial:uristring}',
    'manufacturer=${manufacturer:uristring}',
    'product=${product:uristring}',
    'arch=${buildarch}',
    'platform=${platform}',
  ].join('&');
  return [
    '#!ipxe',
    '# Crashcart: find a network, then ask the appliance what this machine should boot.',
    'isset ${netX/ip} && goto chain ||',
    ':net',
    'dhcp && goto chain ||',
    'echo Crashcart: no DHCP answer on any NIC yet; retrying with back-off',
    'iseq ${cc-net-wait} 30 && goto net_slow ||',
    'iseq ${cc-net-wait} 10 && set cc-net-wait 30 ||',
    'iseq ${cc-net-wait} 3 && set cc-net-wait 10 ||',
    'isset ${cc-net-wait} || set cc-net-wait 3',
    'sleep ${cc-net-wait}',
    'goto net',
    ':net_slow',
    'sleep 30',
    'goto net',
    ...retryBlock('chain', `chain --replace --autofree ${publicUrl}/boot?${q}`, 'error', 5, 5),
    ...errorBlock(publicUrl),
    '',
  ].join('\n');
}

/** The microkernel version as boot scripts carry it and agents report it back (the boot-text whitelist). */
export function microkernelLabel(version: string): string {
  return bootValue(version);
}

/**
 * Kernel arguments that tell the agent where the appliance is and who it is; with the image's version,
 * which the agent reports at registration (the image cannot hold its own digest).
 */
export function agentKernelArgs(publicUrl: string, nodeId: number, token: string, mkVersion?: string): string {
  const mk = mkVersion === undefined ? '' : ` ${KERNEL_ARGS.microkernel}=${microkernelLabel(mkVersion)}`;
  return `${KERNEL_ARGS.url}=${publicUrl} ${KERNEL_ARGS.node}=${nodeId} ${KERNEL_ARGS.token}=${token}${mk}`;
}

/**
 * Boot the discovery microkernel over HTTP. `initrd=initrd.img` is required under UEFI: iPXE boots the
 * kernel's EFI stub, which loads only the initrd its command line names. `mkPath`: the URL folder of the
 * machine's architecture (microkernel-select.ts), `/mk` for amd64.
 */
export function microkernelScript(o: {
  publicUrl: string;
  nodeId: number;
  token: string;
  version: string;
  debug?: boolean;
  mkPath?: string;
  /** The kernel file in that folder: `vmlinuz-zstd` when the microkernel has it (microkernel-assets.ts). */
  kernel?: IpxeKernel;
}): string {
  const args = agentKernelArgs(o.publicUrl, o.nodeId, o.token, o.version);
  const mk = `${o.publicUrl}${o.mkPath ?? '/mk'}`;
  const console = 'console=tty0 console=ttyS0,115200n8';
  return [
    '#!ipxe',
    `# Crashcart: discovery microkernel ${bootValue(o.version)} for node ${o.nodeId}`,
    `#crashcart-args ${args}`,
    'echo Crashcart: loading the discovery microkernel...',
    ...retryBlock(
      'kernel',
      `kernel --name vmlinuz ${mk}/${o.kernel ?? 'vmlinuz'} initrd=initrd.img ${args} BOOTIF=01-\${netX/mac:hexhyp} ${console} ipv6.disable=1 quiet`,
      'initrd',
    ),
    ...retryBlock('initrd', `initrd --name initrd.img ${mk}/initrd.img`, 'boot'),
    ':boot',
    'boot || goto error',
    ...errorBlock(o.publicUrl),
    '',
  ].join('\n');
}

/** No microkernel for this machine's architecture (`arch`, default amd64) yet: say so and try again later. */
export function noMicrokernelScript(o: { publicUrl: string; nodeId: number; token: string; arch?: string }): string {
  const arch = ipxeText(o.arch ?? 'amd64');
  return [
    '#!ipxe',
    `# Crashcart: node ${o.nodeId} is known, but no ${arch} discovery microkernel is installed.`,
    `#crashcart-args ${agentKernelArgs(o.publicUrl, o.nodeId, o.token)}`,
    `echo Crashcart: no ${arch} discovery microkernel is installed on the appliance.`,
    `echo Fix: run npm run build:microkernel -- --arch ${arch} or crashcart microkernel import DIR there.`,
    'echo Trying again in 60 s...',
    'sleep 60',
    `chain --replace --autofree ${o.publicUrl}/boot.ipxe || reboot`,
    '',
  ].join('\n');
}

/**
 * Installed node: boot from the local disk (BIOS: first disk; UEFI: leave iPXE so firmware boots the next
 * entry). UEFI leaves with a non-zero status on purpose: UEFI 2.10 3.1.1 lets a boot manager stop at its menu
 * when a boot option returns EFI_SUCCESS (OVMF does), and go on to the next BootOrder entry on an error.
 */
export function localDiskScript(o: { publicUrl: string; nodeId: number; hostname: string | null }): string {
  return [
    '#!ipxe',
    `# Crashcart: node ${o.nodeId} is installed; booting from local disk.`,
    `echo Crashcart: ${o.hostname ? ipxeText(o.hostname) : `node ${o.nodeId}`} boots from its local disk`,
    'iseq ${platform} efi && exit 1 ||',
    'sanboot --no-describe --drive 0x80 || exit',
    '',
  ].join('\n');
}

/**
 * A node whose record says `error`: say so, then re-ask in a minute. The reason is not written here: it
 * came from the node (an installer's failure detail), so it is shown in the UI only.
 */
export function errorStateScript(o: { publicUrl: string; nodeId: number }): string {
  return [
    '#!ipxe',
    `echo Crashcart: node ${o.nodeId} is in the error state; the Crashcart UI shows why.`,
    'echo Fix it in the Crashcart UI (unbind or reinstall); retrying in 60 s.',
    'sleep 60',
    `chain --replace --autofree ${o.publicUrl}/boot.ipxe || reboot`,
    '',
  ].join('\n');
}
