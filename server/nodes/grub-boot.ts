/**
 * A node's GRUB configuration: the boot decision of boot-flow.ts written for GRUB (boot-render.ts), for
 * the TFTP name GRUB asks for (tftp-virtual.ts) and the same path on the node plane.
 */
import type { CoreContext } from '../core/context.ts';
import type { GrubNodeName } from '../boot/grub-names.ts';
import { renderGrub } from '../boot/boot-render.ts';
import { bootRequest } from './boot-flow.ts';
import { canonicalMac } from './identity.ts';
import { ccError } from '../errors/cc-error.ts';

/**
 * Decide and render; a task without a GRUB form is said in a `node.chain` event as well as on the console.
 * `creator`: the node-guard source a new record is charged to (bootRequest); TFTP's is not the datagram's address.
 */
export async function grubNodeConfig(ctx: CoreContext, n: GrubNodeName, ip: string, creator?: string): Promise<string> {
  const mac = canonicalMac(n.mac);
  if (!mac) throw ccError('CC_ERR_BAD_REQUEST', `mac "${n.mac}" is not a MAC address (GRUB fills it from $net_default_mac)`);
  const q = { mac, arch: n.cpu, platform: 'efi', uuid: n.uuid, serial: n.serial };
  const r = await bootRequest(ctx, q, ip, 'grub', (d) => renderGrub(d, ctx.config.publicUrl, mac), creator);
  if (r.answer.problem)
    ctx.events.emit('node.chain', {
      node_id: r.node.id,
      mac,
      message: `Node ${r.node.id} runs GRUB, but its task has no GRUB form: ${r.answer.problem}`,
      data: { chain: 'shim-grub', reason: 'task-needs-ipxe', problem: r.answer.problem },
    });
  return r.answer.cfg;
}
