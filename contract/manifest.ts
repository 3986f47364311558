/**
 * The rack manifest (docs/manifest.md): the spreadsheet a rack arrives with, imported as expected
 * machines. Admin API bodies and answers, and the link a node record keeps to its manifest row.
 */
import { Type, type Static } from 'typebox';

/** Columns the manifest understands; every other column becomes node metadata. */
export const MANIFEST_COLUMNS = ['serial', 'mac', 'uuid', 'hostname', 'ip', 'policy', 'bmc_address'] as const;

/** Largest manifest file accepted, in bytes (a 10,000-machine rack list is about 2 MB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Most machines (rows) in one manifest. */
export const MAX_MANIFEST_ROWS = 10_000;

/**
 * What a node record keeps of the manifest row it came from or was matched to. The BMC work reads
 * `bmc_address` here (a pre-registered machine can be powered on before it was ever seen).
 */
export const ManifestLinkSchema = Type.Object({
  /** Row number in the imported file (the header is row 1 of a CSV; the first object is row 1 of JSON). */
  row: Type.Integer(),
  /** The file name given at import, or "api". */
  source: Type.String(),
  imported_at: Type.String(),
  policy: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  bmc_address: Type.Union([Type.String(), Type.Null()]),
  /** When a machine claimed the record (null: expected, not seen yet). */
  claimed_at: Type.Union([Type.String(), Type.Null()]),
  /** What the machine reported differently from the row (e.g. another serial): manifest binding waits for the operator. */
  mismatch: Type.Array(Type.String()),
  /** `bmc`: the record was made from a BMC (POST /api/v1/nodes/from-bmc), its identifiers read from it; absent: a manifest row. */
  origin: Type.Optional(Type.Literal('bmc')),
});
/** A node's manifest link. */
export type ManifestLink = Static<typeof ManifestLinkSchema>;

/** POST /api/v1/manifest/preview and /import: the file as text or as its raw bytes (base64, checked as UTF-8 here). */
export const ManifestRequestSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('csv'), Type.Literal('json')]),
    /** The file's text (a JSON string is always valid Unicode; send content_base64 to have bad UTF-8 found). */
    content: Type.Optional(Type.String({ maxLength: MAX_MANIFEST_BYTES })),
    /** The file's bytes, base64: the UTF-8 check names the line and byte of a bad sequence. */
    content_base64: Type.Optional(Type.String({ maxLength: Math.ceil(MAX_MANIFEST_BYTES / 3) * 4 })),
    /** The file name, kept on each record for the operator. */
    source: Type.Optional(Type.String({ maxLength: 255 })),
    /** Import the good rows even when others have errors or conflicts (else nothing is imported). */
    skip_invalid: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** Manifest request. */
export type ManifestRequest = Static<typeof ManifestRequestSchema>;

/** What importing a row does. */
export const MANIFEST_ACTIONS = ['create', 'update', 'unchanged', 'conflict', 'error'] as const;
/** One action. */
export type ManifestAction = (typeof MANIFEST_ACTIONS)[number];

/** One row of a preview or an import. */
export const ManifestRowResultSchema = Type.Object({
  row: Type.Integer(),
  action: Type.Enum(MANIFEST_ACTIONS),
  /** The record the row creates (after import) or updates. */
  node_id: Type.Union([Type.Integer(), Type.Null()]),
  /** How the row names the machine (serial, else first MAC, else UUID). */
  label: Type.String(),
  hostname: Type.Union([Type.String(), Type.Null()]),
  /** What changes, in words ("hostname web-01 (was node7)"). */
  changes: Type.Array(Type.String()),
  /** Why the row cannot be imported (error, conflict). */
  problems: Type.Array(Type.String()),
  /** What is imported but worth a look (a formula-like cell, a DHCP reservation that cannot be made). */
  warnings: Type.Array(Type.String()),
});
/** One row result. */
export type ManifestRowResult = Static<typeof ManifestRowResultSchema>;

/** Answer of preview and import. */
export const ManifestPlanSchema = Type.Object({
  /** False for a preview, and for an import that was refused. */
  applied: Type.Boolean(),
  columns: Type.Array(Type.String()),
  counts: Type.Object({
    create: Type.Integer(),
    update: Type.Integer(),
    unchanged: Type.Integer(),
    conflict: Type.Integer(),
    error: Type.Integer(),
  }),
  rows: Type.Array(ManifestRowResultSchema),
});
/** A manifest plan. */
export type ManifestPlan = Static<typeof ManifestPlanSchema>;

/** GET /api/v1/manifest: where the rack stands against its manifest. */
export const ManifestStatusSchema = Type.Object({
  /** Records from a manifest that no machine has claimed yet. */
  waiting: Type.Integer(),
  /** Records a machine claimed. */
  arrived: Type.Integer(),
  /** Machines that no manifest row names (counted only once a manifest was imported). */
  unexpected: Type.Integer(),
  /** Claimed records where the machine reported something else than the row. */
  mismatched: Type.Integer(),
});
/** Manifest status. */
export type ManifestStatus = Static<typeof ManifestStatusSchema>;
