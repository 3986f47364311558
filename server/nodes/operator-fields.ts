/**
 * Node record fields of issue 15 (the operator's day: manifest, hostname and address overrides, image
 * versions), declared beside the code that owns them. They extend the stored NodeDoc (server/store/docs.ts)
 * by declaration merging; records written before them lack them (every one is optional).
 */
import type { ManifestLink } from '../../contract/index.ts';

declare module '../store/docs.ts' {
  interface NodeDoc {
    /** The hostname was set by the operator (node page, manifest): binding keeps it. */
    hostname_locked?: boolean;
    /** The address the node's OS gets (manifest, node page); a DHCP reservation of its boot MAC in full mode. */
    ip_reserved?: string | null;
    /** The manifest row this record came from or was matched to (server/manifest/). */
    manifest?: ManifestLink;
    /** Microkernel image the node last registered from (`crashcart.mk=` of its boot script). */
    microkernel_version?: string | null;
    /** Agent version the node last registered with. */
    agent_version?: string | null;
  }
}

/** True for a manifest record no machine has claimed yet (its state is `expected` unless bound by hand). */
export function isUnclaimed(d: { manifest?: ManifestLink }): boolean {
  return d.manifest !== undefined && d.manifest.claimed_at === null;
}
