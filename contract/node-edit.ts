/** Admin API shapes for editing one node beyond PATCH (issue 15): metadata key by key, the static address. */
import { Type, type Static } from 'typebox';
import { NodeSchema } from './node.ts';
import { ReservationMacSchema } from './reservations.ts';

/** A metadata key: what a template can address as `node.metadata.KEY` or a rule as ["metadata", KEY]. */
export const MetadataKeyParamsSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  key: Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$' }),
});

/** PUT /api/v1/nodes/:id/metadata/:key: text, a number or true/false (what rules compare). */
export const MetadataValueSchema = Type.Object(
  { value: Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]) },
  { additionalProperties: false },
);

/** PUT /api/v1/nodes/:id/address: the address, and which MAC reserves it (default: the boot MAC). */
export const NodeAddressInputSchema = Type.Object(
  { ip: Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' }), mac: Type.Optional(ReservationMacSchema) },
  { additionalProperties: false },
);
/** Static address input. */
export type NodeAddressInput = Static<typeof NodeAddressInputSchema>;

/** Answer of the address routes: the node, and a note when the reservation could not be made (no MAC yet, proxy DHCP). */
export const NodeAddressAnswerSchema = Type.Object({ node: NodeSchema, note: Type.Union([Type.String(), Type.Null()]) });
/** Address answer. */
export type NodeAddressAnswer = Static<typeof NodeAddressAnswerSchema>;
