/** Named DHCP defaults, each with why. */

/** Lease time: an hour outlives any install, and a laptop appliance restarts often enough to reclaim. */
export const DEFAULT_LEASE_S = 3600;
/** RFC 2131 4.4.5: T1 defaults to 0.5 of the lease. */
export const RENEWAL_FRACTION = 0.5;
/** RFC 2131 4.4.5: T2 defaults to 0.875 of the lease. */
export const REBINDING_FRACTION = 0.875;
/** How long an unaccepted OFFER holds its address; clients REQUEST within seconds. */
export const OFFER_HOLD_S = 60;
/** RFC 2131 3.1.5: a DECLINEd address is in use by someone else; keep it out of the pool this long. */
export const DECLINE_QUARANTINE_S = 600;
/**
 * Listen this long for foreign servers before full mode goes live. Not 3 s:
 * dnsmasq pings an address before offering it and its first OFFER arrives
 * just after 3 s (measured in test/dhcp/firmware.test.ts), so a 3 s probe misses it.
 */
export const DEFAULT_PROBE_MS = 4500;
/** Re-probe the link for foreign DHCP servers this often while serving. */
export const DEFAULT_REPROBE_MS = 5 * 60_000;
/** How often the NIC's state and address are checked (stop serving when it goes down). */
export const DEFAULT_LINK_POLL_MS = 2000;
/** Expired leases are marked this often (expiry itself is evaluated on every decision). */
export const SWEEP_INTERVAL_MS = 60_000;
/** At most one `dhcp.malformed` event per this interval; the counter counts every packet. */
export const MALFORMED_EVENT_INTERVAL_MS = 10_000;
/** At most one `dhcp.unsupported` event per MAC per this interval: firmware repeats its DISCOVER for minutes. */
export const UNSUPPORTED_EVENT_INTERVAL_MS = 60_000;
/** A UEFI client that comes back with a new DISCOVER this much later without reaching TFTP gets the other proxy strategy. */
export const PROXY_STRATEGY_RETRY_MS = 4000;
/** DHCP socket receive buffer: ~10,000 requests queue while the event loop is busy (GC, a store batch). */
export const DHCP_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Per-client memory that rack packets create (proxy strategy per MAC, IP -> MAC from 4011
 * requests) is capped at this many entries, least recently seen forgotten first. A 500-node
 * rack booting at once PXE-boots from 1-4 NICs per machine (2,000 entries at most); 4,096
 * keeps all of them with room, and a flood of random MACs costs under 1 MB.
 */
export const MAX_TRACKED_CLIENTS = 4096;
/** Foreign servers remembered per probe and across re-probes: a hostile server inventing server ids cannot grow memory or events. */
export const MAX_FOREIGN_SERVERS = 32;
/** DORAs the warm start runs after start (warm-start.ts); measured in docs/perf/changes.md (DHCP, warm start). */
export const WARM_START_DORAS = 4000;
/**
 * Leases a warm-start slice's lease table and lease file make room for: a few, so that the slice's 24 leases meet
 * what a real table meets only later (probe collisions, rebuilds, reused slots) and V8 has seen those paths before
 * the first real burst (a real table makes room for 16,384: core/number-index.ts).
 */
export const WARM_TABLE_ENTRIES = 4;
/** DORAs per warm-start slice (even: a client's two DORAs share a slice): a few milliseconds of work, then a real packet may go first. */
export const WARM_START_SLICE = 24;
/**
 * The event budget of a warm-start handler (one per slice, about 96 events): half a slice's events are recorded and
 * the rest go over it, so the paths of a flood (publish, count, the summary) are trained before the first real burst
 * meets them (event-budget.ts).
 */
export const WARM_EVENTS_PER_MIN = WARM_START_SLICE * 2;
