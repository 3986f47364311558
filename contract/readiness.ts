/**
 * Readiness: can this appliance serve a rack, and if not, what is missing and how to fix it.
 * One shape for `crashcart doctor`, the table `serve` prints at start, `GET /api/v1/readiness`
 * and the UI's setup screen (issue 12).
 */
import { Type, type Static } from 'typebox';

/** ok: fine; warn: serves, with a gap (e.g. no arm64 loader); fail: the rack cannot be served; info: context. */
export const ReadinessStatusSchema = Type.Union([Type.Literal('ok'), Type.Literal('warn'), Type.Literal('fail'), Type.Literal('info')]);
/** One row's status. */
export type ReadinessStatus = Static<typeof ReadinessStatusSchema>;

/** The groups rows fall in, in the order they are shown. */
export const READINESS_GROUPS = ['host', 'network', 'loaders', 'microkernel', 'images', 'disk'] as const;

/** One row: what was checked, what was found, and the fix when it is not ok. */
export const ReadinessRowSchema = Type.Object({
  /** Stable id, e.g. `port-67`, `loader-ipxe-bios`, `microkernel-amd64`. */
  id: Type.String(),
  group: Type.Union([
    Type.Literal('host'),
    Type.Literal('network'),
    Type.Literal('loaders'),
    Type.Literal('microkernel'),
    Type.Literal('images'),
    Type.Literal('disk'),
  ]),
  /** Short name of the item ("TFTP port 69", "iPXE x86 BIOS"). */
  label: Type.String(),
  status: ReadinessStatusSchema,
  /** What was found ("undionly.kpxe verified, in the data dir"). */
  detail: Type.String(),
  /** The fix, for warn and fail rows. */
  fix: Type.Optional(Type.String()),
});
/** One readiness row. */
export type ReadinessRow = Static<typeof ReadinessRowSchema>;

/** The whole answer. */
export const ReadinessSchema = Type.Object({
  /** False when any row failed: `doctor` exits non-zero and `serve` (full or proxy) refuses to start. */
  ready: Type.Boolean(),
  /** What was checked for: the DHCP mode, or `lab` for the simulated rack (no NIC). */
  mode: Type.Union([Type.Literal('full'), Type.Literal('proxy'), Type.Literal('off'), Type.Literal('lab')]),
  rows: Type.Array(ReadinessRowSchema),
  checked_at: Type.String(),
});
/** Readiness of an appliance. */
export type Readiness = Static<typeof ReadinessSchema>;
