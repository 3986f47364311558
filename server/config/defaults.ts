/** Named defaults, each with why. */

/** Node-facing HTTP port: the contract's, since the agent falls back to the same one. */
export { DEFAULT_HTTP_PORT } from '../../contract/protocol.ts';
/** Admin plane port, next to the node plane's so both are easy to remember. */
export const DEFAULT_ADMIN_PORT = 8027;
/** The admin plane listens on loopback unless the operator exposes it with a token. */
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
/** Hanlon checked in every 60 s; a lab wants faster feedback, a rack does not need it. */
export const DEFAULT_CHECKIN_INTERVAL_S = 60;
/** Hanlon's start delay of up to 5 s spreads a rack that powers on together. */
export const DEFAULT_CHECKIN_SKEW_S = 5;
/** A node is lost after this many missed check-ins (one miss is normal jitter). */
export const DEFAULT_LOST_AFTER_INTERVALS = 3;
/** Ask for a fresh register when a node was silent this long (facts may be stale). */
export const DEFAULT_REREGISTER_AFTER_S = 3600;
/** Simulated rack size of `npm start` on a machine with no --iface. */
export const DEFAULT_LAB_NODES = 8;
/** Node-plane requests per minute per source IP; a real node needs a handful. */
export const DEFAULT_NODE_RATE_LIMIT_PER_MIN = 600;
/** Events kept in the log before the oldest are trimmed. */
export const DEFAULT_EVENT_RETENTION = 200_000;
/**
 * History events (everything but the rack's traffic: server/events/traffic-types.ts) kept once they are older than the
 * newest DEFAULT_EVENT_RETENTION events, however much traffic came after them: a flood of DHCP, TFTP or boot requests
 * trims traffic, not the operator's history.
 */
export const DEFAULT_HISTORY_RETENTION = 50_000;
/** Store compaction interval: nedb appends, compaction rewrites the file. */
export const DEFAULT_COMPACTION_INTERVAL_S = 600;
/**
 * UEFI x86 first stage: snponly.efi drives the NIC through the firmware's own network driver, the one that just
 * PXE-booted the machine (Ironic's default too). ipxe.efi, with iPXE's own drivers, stays one setting away
 * (per appliance, tag or node); Debian's 2019 build of it took 4 s longer to start on OVMF (docs/boot.md).
 */
export const DEFAULT_EFI_LOADER = 'snponly.efi';
/**
 * UEFI chain when neither the node nor its tags say: `auto` offers iPXE (the richer chain) and switches a node
 * to the signed shim chain once its firmware fetched iPXE and never ran it (Secure Boot), docs/boot.md.
 */
export const DEFAULT_BOOT_CHAIN = 'auto';
/** BMC actions run at once in a bulk request: enough for a rack, few enough not to flood a management switch. */
export const DEFAULT_BMC_CONCURRENCY = 8;
/** Seconds between two machines starting in a bulk power-on: racks trip breakers when 40 PSUs draw inrush together. */
export const DEFAULT_POWER_STAGGER_S = 3;
/** How long `off` waits for the OS to shut down (ACPI power button) before forcing it off; systemd's stop timeout is 90 s. */
export const DEFAULT_SOFT_OFF_TIMEOUT_S = 120;
/** One BMC request (an ipmitool run, a Redfish HTTP exchange); embedded BMCs are slow, but a minute means it is gone. */
export const DEFAULT_BMC_REQUEST_TIMEOUT_S = 20;
/** A forced power change shows in a BMC's reported state within seconds; after a minute it did not happen. */
export const DEFAULT_BMC_TRANSITION_S = 60;
/** Seconds between power-state reads while waiting for a transition. */
export const DEFAULT_BMC_POLL_S = 2;
/** Retries of an idempotent BMC read (a Redfish GET, an IPMI status) after a dropped or timed-out attempt. */
export const DEFAULT_BMC_RETRIES = 2;
/** Seconds between power-state polls of BMC-enrolled nodes: calm (an embedded BMC serves one session at a time), yet the table is never minutes stale. */
export const DEFAULT_POWER_POLL_S = 60;
/** In-band BMC enrolment: on in full-DHCP mode (the operator owns the rack), off in proxy mode (machines beside production DHCP must not get new BMC users). */
export const DEFAULT_BMC_ENROL_INBAND = 'auto';
/** Browser sessions end after a working day of idleness (issue 10: idle 8 h). */
export const DEFAULT_SESSION_IDLE_S = 8 * 3600;
/** ...and a day after sign-in however busy, so a stolen cookie dies by itself (issue 10: absolute 24 h). */
export const DEFAULT_SESSION_MAX_S = 24 * 3600;
/** A printed login link is good for 10 minutes: long enough to open it, short enough that a leaked log line is stale. */
export const LOGIN_CODE_TTL_S = 600;
/**
 * A deployed OS must call back within this after its disk was written: a reboot, firmware POST and a
 * first boot with cloud-init take minutes on real hardware (about 5 under QEMU TCG); half an hour means it
 * did not boot (wrong boot order, firmware cannot read the disk, no network).
 */
export const DEFAULT_DEPLOY_CALLBACK_TIMEOUT_S = 1800;
