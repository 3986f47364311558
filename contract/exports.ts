/** GET /api/v1/export/:format: the params schema (the formats are in export-formats.ts). */
import { Type, type Static } from 'typebox';
import { EXPORT_FORMAT_NAMES } from './export-formats.ts';

/** GET /api/v1/export/:format params. */
export const ExportParamsSchema = Type.Object({ format: Type.Enum(EXPORT_FORMAT_NAMES) });
/** Export params. */
export type ExportParams = Static<typeof ExportParamsSchema>;

/**
 * GET /api/v1/export/:format query: which of NetBox's three imports (devices by default), and which nodes
 * (`ids=3,7,12`, the UI's selection; every node when absent).
 */
export const ExportQuerySchema = Type.Object({
  part: Type.Optional(Type.Union([Type.Literal('devices'), Type.Literal('interfaces'), Type.Literal('ip-addresses')])),
  ids: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,9}(,[1-9][0-9]{0,9}){0,9999}$', maxLength: 110_000 })),
});
/** Export query. */
export type ExportQuery = Static<typeof ExportQuerySchema>;
