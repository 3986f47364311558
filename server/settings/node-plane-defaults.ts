/**
 * Defaults of the node-plane settings that bound what the rack can make the appliance do
 * (docs/security.md "Node plane"). Sized for a 500-node rack that powers on at once; every one is a
 * setting, and 0 lifts the limits that are rates or caps (benchmarks lift them explicitly).
 */

/** Enrolment token lifetime: a microkernel boot registers within minutes; an hour covers a rack pulling its initrd over one slow link. */
export const DEFAULT_ENROL_TOKEN_TTL_S = 3600;
/** Install token lifetime: the longest unattended install we expect (slow mirror, big package set) plus margin. */
export const DEFAULT_INSTALL_TOKEN_TTL_S = 86_400;
/** New records per source address per minute via /boot: one machine makes one per boot NIC; 20 leaves room for retries. */
export const DEFAULT_NODE_CREATE_PER_SOURCE_PER_MIN = 20;
/** New records per minute from DHCP sightings and TFTP requests for GRUB node configs (one shared bucket): twice a 500-node rack powering on together. */
export const DEFAULT_NODE_CREATE_DHCP_PER_MIN = 1000;
/** Records that never registered: 40 racks of 500 machines; past it garbage cannot grow the store or the UI any more. */
export const DEFAULT_UNREGISTERED_NODES_MAX = 20_000;
/** node.discovered events per minute: a 500-node rack fits with room; a flood of forged MACs is summarised instead. */
export const DEFAULT_DISCOVERED_EVENTS_PER_MIN = 600;
/** Unauthenticated events per source per minute: a real boot makes about five (boot, kernel, initrd, register, check-in). */
export const DEFAULT_NODE_EVENTS_PER_SOURCE_PER_MIN = 120;
/**
 * The same events from all sources together per minute, in each of two budgets: events of known nodes, and everyone
 * else's. The per-source budget alone is no bound: the rack can speak from as many addresses as it likes (a forged
 * TFTP source costs nothing), and each new one starts with a full bucket. A 500-node rack powering on makes about
 * 2,500; past it the rest are counted, not written.
 */
export const DEFAULT_NODE_EVENTS_PER_MIN = 12_000;
/**
 * Per-packet DHCP events (DISCOVER, OFFER, REQUEST, ACK, ...) recorded per minute, in each of two budgets: packets of
 * known nodes, and everyone else's. A 500-node rack powering on makes about 6,000 (two or three exchanges of four
 * packets per machine); past it the rest are counted, not written, so a DHCP flood cannot push the operator's
 * history out of the log or keep the disk busy under the leases' fdatasync.
 */
export const DEFAULT_DHCP_EVENTS_PER_MIN = 12_000;
/**
 * TFTP transfer events (`tftp.start`, `tftp.finish`, `tftp.error`) recorded per minute, in each of two budgets: known
 * nodes', and everyone else's. A machine's first stage makes two or three (a size probe, then the transfer), a signed
 * UEFI chain a few more: a 500-node rack about 3,000. A TFTP request is one datagram from any source address, so
 * without it a flood of requests for a missing file would push the operator's history out of the log.
 */
export const DEFAULT_TFTP_EVENTS_PER_MIN = 12_000;
/** Register bytes per source per minute: four full-size (2 MiB) registrations; an agent sends one or two small ones. */
export const DEFAULT_FACTS_BYTES_PER_SOURCE_PER_MIN = 8 * 1024 * 1024;
/** Headers must arrive within this: iPXE and agents send them in one segment; a slowloris client is cut. */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_S = 15;
/** A whole request (2 MiB register body included) must arrive within this; answers (image downloads) are not limited. */
export const DEFAULT_HTTP_REQUEST_TIMEOUT_S = 60;
/**
 * Idle keep-alive connections close after this (Fastify's default). It must outlast the clients' own idle
 * timeout (Node's agent: 5 s), or a client reusing a socket the server just closed gets ECONNRESET.
 */
export const DEFAULT_HTTP_KEEPALIVE_TIMEOUT_S = 72;
