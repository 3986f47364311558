/**
 * The GRUB configurations the appliance serves to the signed shim -> GRUB chain (Secure Boot x86_64, arm64,
 * U-Boot): the same decisions as the iPXE scripts (scripts.ts), in GRUB's language. Pure: inputs in, text
 * out. Every word is single-quoted through grub-text.ts; only GRUB's own variables are expanded, and only
 * in the bootstrap's double-quoted file name (docs/identity.md 4). GRUB's script has no `goto`: retries
 * are `for` loops over a fixed list.
 */
import { agentKernelArgs } from './scripts.ts';
import { grubText, grubValue, grubWord } from './grub-text.ts';

/**
 * Debian's signed network GRUB reads files over TFTP only: its image carries no `http` module, and under
 * Secure Boot it may not load one (docs/boot.md). `(tftp)` is the server GRUB booted from (next-server).
 */
function tftpPath(name: string): string {
  return `(tftp)/${name.replace(/^\/+/, '')}`;
}

/** The TFTP name of a node's configuration, as the bootstrap asks for it: `grub/node/MAC/CPU/UUID/SERIAL.cfg`. */
export const GRUB_NODE_PREFIX = 'grub/node/';

/** Lines that end a configuration after a failure: say where to look, wait, start over from the bootstrap. */
function startOver(waitS: number): string[] {
  return [`sleep ${waitS}`, `configfile ${grubWord(tftpPath('grub/grub.cfg'))}`, 'reboot'];
}

/**
 * `grub/grub.cfg` (TFTP, and HTTP for GRUBs that have the module): what Debian's network GRUB reads first,
 * on every architecture. It asks for this node's configuration by name: the boot NIC's MAC, GRUB's CPU,
 * the SMBIOS UUID and a serial plain enough to be one path segment (anything else is sent as `-`).
 */
export function grubBootstrapCfg(publicUrl: string): string {
  // GRUB's variables are filled by GRUB; the appliance writes only the name around them.
  const name = `${tftpPath(GRUB_NODE_PREFIX)}\${net_default_mac}/\${grub_cpu}/\${cc_uuid}/\${cc_serial}.cfg`;
  return [
    '# Crashcart: ask the appliance what this machine boots (one file for x86_64 and arm64 GRUB).',
    'set timeout=0',
    'set cc_uuid=-',
    'set cc_serial=-',
    'smbios --type 1 --get-uuid 8 --set cc_uuid',
    'smbios --type 1 --get-string 7 --set cc_serial',
    // A serial with path syntax in it (/, spaces, ..) would change the name: send only plain ones.
    `if ! regexp '^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$' "$cc_serial"; then set cc_serial=-; fi`,
    `if ! regexp '^[0-9a-fA-F-]{36}$' "$cc_uuid"; then set cc_uuid=-; fi`,
    'for cc_try in 1 2 3 4 5; do',
    `  configfile "${name}"`,
    `  echo ${grubText(`Crashcart: no answer from ${publicUrl} (attempt`)} "$cc_try)"`,
    '  sleep 5',
    'done',
    `echo ${grubText(`Crashcart: boot failed. Check that this machine can reach ${publicUrl}`)}`,
    `echo ${grubText("(the appliance log and the node's boot timeline show why). Rebooting in 30 s.")}`,
    'sleep 30',
    'reboot',
    '',
  ].join('\n');
}

/** What a per-node configuration boots: a kernel, its initrds (TFTP names on the appliance) and its command line. */
export interface GrubKernelBoot {
  kernel: string;
  initrds: string[];
  args: string[];
}

/** Load a kernel and initrds over TFTP with retries, then boot; on failure start over. */
function kernelLines(k: GrubKernelBoot, publicUrl: string): string[] {
  const path = (n: string) => grubWord(tftpPath(n));
  const linux = ['linux', path(k.kernel), ...k.args.map(grubWord)].join(' ');
  const initrd = k.initrds.length ? ['initrd', ...k.initrds.map(path)].join(' ') : 'true';
  return [
    'for cc_try in 1 2 3; do',
    `  if ${linux}; then`,
    `    if ${initrd}; then boot; fi`,
    '  fi',
    `  echo ${grubText('Crashcart: loading failed (attempt')} "$cc_try)"`,
    '  sleep 3',
    'done',
    `echo ${grubText(`Crashcart: boot failed. Check that this machine can reach ${publicUrl}; retrying in 30 s.`)}`,
    ...startOver(30),
  ];
}

/** Boot the discovery microkernel of `arch` (its folder under /mk/), with the agent's arguments. */
export function grubMicrokernelCfg(o: {
  publicUrl: string;
  nodeId: number;
  token: string;
  version: string;
  /** Folder of this architecture's microkernel (the same under TFTP and HTTP), e.g. `/mk` or `/mk/arm64`. */
  mkPath: string;
  /** The boot NIC's MAC (canonical): the microkernel's init configures that NIC first (BOOTIF). */
  mac: string;
  /** Kernel console arguments for this architecture. */
  console: string[];
}): string {
  const mk = o.mkPath.replace(/^\/+/, '');
  const args = [
    ...agentKernelArgs(o.publicUrl, o.nodeId, o.token).split(' '),
    `BOOTIF=01-${o.mac.replace(/:/g, '-')}`,
    ...o.console,
    'ipv6.disable=1',
    'quiet',
  ];
  return [
    `# Crashcart: discovery microkernel ${bootValueWord(o.version)} for node ${o.nodeId}`,
    `echo ${grubText('Crashcart: loading the discovery microkernel...')}`,
    ...kernelLines({ kernel: `${mk}/vmlinuz`, initrds: [`${mk}/initrd.img`], args }, o.publicUrl),
    '',
  ].join('\n');
}

/** A comment-safe rendering of a value (comments end at the line end; the whitelist keeps it one word). */
function bootValueWord(v: string): string {
  return grubValue(v).slice(1, -1);
}

/** No microkernel for this architecture on the appliance: say so and which, try again in a minute. */
export function grubNoMicrokernelCfg(o: { publicUrl: string; nodeId: number; arch: string }): string {
  return [
    `# Crashcart: node ${o.nodeId} is known, but no ${bootValueWord(o.arch)} discovery microkernel is installed.`,
    `echo ${grubText(`Crashcart: no ${o.arch} discovery microkernel is installed on the appliance.`)}`,
    `echo ${grubText(`Fix: run npm run build:microkernel -- --arch ${o.arch} there (crashcart doctor lists what is ready).`)}`,
    ...startOver(60),
    '',
  ].join('\n');
}

/** Installed node: leave GRUB, so the firmware boots its next entry (the local disk), as iPXE's `exit` does. */
export function grubLocalDiskCfg(o: { nodeId: number; hostname: string | null }): string {
  const who = o.hostname
    ? grubText(`Crashcart: ${o.hostname} boots from its local disk`)
    : grubText(`Crashcart: node ${o.nodeId} boots from its local disk`);
  return [`# Crashcart: node ${o.nodeId} is installed; booting from local disk.`, `echo ${who}`, 'exit', ''].join('\n');
}

/** A node in the error state: the reason came from the node, so it stays in the UI; re-ask in a minute. */
export function grubErrorStateCfg(o: { publicUrl: string; nodeId: number }): string {
  return [
    `echo ${grubText(`Crashcart: node ${o.nodeId} is in the error state; the Crashcart UI shows why.`)}`,
    `echo ${grubText('Fix it in the Crashcart UI (unbind or reinstall); retrying in 60 s.')}`,
    ...startOver(60),
    '',
  ].join('\n');
}

/** A bound node's task, translated from its iPXE form (task-grub.ts). */
export function grubTaskCfg(o: { publicUrl: string; nodeId: number; task: string; boot: GrubKernelBoot }): string {
  return [
    `# Crashcart: node ${o.nodeId} runs task ${bootValueWord(o.task)}`,
    `echo ${grubText(`Crashcart: node ${o.nodeId} starts task ${o.task}`)}`,
    ...kernelLines(o.boot, o.publicUrl),
    '',
  ].join('\n');
}

/** A task that has no GRUB form (custom iPXE, sanboot, ...): say what to change; the event says it too. */
export function grubTaskUnsupportedCfg(o: { publicUrl: string; nodeId: number; task: string; why: string }): string {
  return [
    `echo ${grubText(`Crashcart: task ${o.task} of node ${o.nodeId} cannot run from GRUB: ${o.why}`)}`,
    `echo ${grubText('Fix: give this node the iPXE chain (boot_chain ipxe, Secure Boot off) or a kernel+initrd task.')}`,
    ...startOver(60),
    '',
  ].join('\n');
}
