/**
 * Records on each node which boot chain it took and what `boot_chain: auto` needs, from the events DHCP,
 * TFTP and the node plane emit (their servers stay unaware of the node model): the chain a DHCP answer
 * started (contract/boot-chain.ts) and when an iPXE EFI loader was fetched completely. Written in batches
 * (`touch`): losing the last second of this to a crash costs at most one more iPXE try.
 */
import type { CcEvent } from '../../contract/index.ts';
import { chainOfBootFile } from '../../contract/boot-chain.ts';
import type { CoreContext } from '../core/context.ts';

/** The iPXE EFI builds: an unsigned loader a Secure Boot firmware downloads and then refuses. */
const IPXE_EFI = new Set(['ipxe.efi', 'snponly.efi']);

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Apply one event to its node. Pure apart from the node it changes. */
export function recordChainEvent(ctx: CoreContext, e: CcEvent): void {
  if (e.node_id === null) return;
  const node = ctx.repo.get(e.node_id);
  if (!node) return;
  if (e.type === 'dhcp.offer' || e.type === 'dhcp.ack') {
    const chain = chainOfBootFile(e.data.file ?? null, e.data.arch, e.data.vendor_class);
    if (!chain || node.last_chain === chain) return;
    node.last_chain = chain;
  } else if (e.type === 'tftp.finish' && IPXE_EFI.has(baseName(e.data.file))) {
    node.ipxe_fetched_at = e.ts;
  } else if (e.type === 'http.transfer' && 'url' in e.data && /^\/ipxe\/(ipxe|snponly)\.efi$/.test(e.data.url)) {
    node.ipxe_fetched_at = e.ts;
  } else return;
  ctx.repo.touch(node);
}

/** Follow the event log; returns the unsubscribe function. */
export function startChainRecorder(ctx: CoreContext): () => void {
  // Events over a budget too (server/events/event-budget.ts): a DHCP flood must not cost a real node its chain.
  return ctx.events.subscribe((e) => recordChainEvent(ctx, e), { unrecorded: true });
}
