/**
 * A BMC for a machine Crashcart has never seen (issue 14, docs/bmc.md "A machine known only by its BMC"): the
 * operator gives a BMC, Crashcart reads the machine's identifiers from it and keeps an `expected` record that
 * the machine claims when it first boots (docs/identity.md 1).
 */
import { Type, type Static } from 'typebox';
import { BmcInputSchema } from './bmc.ts';
import { HOSTNAME_PATTERN, NodeSchema } from './node.ts';

/** POST /api/v1/nodes/from-bmc: the BMC (password required: nothing is stored yet) and what the operator knows. */
export const NodeFromBmcRequestSchema = Type.Object(
  {
    /** `password` is required here (nothing is stored yet to keep); the server says so when it is missing. */
    bmc: BmcInputSchema,
    /** The hostname the machine keeps (locked, like a manifest row's). */
    hostname: Type.Optional(Type.String({ pattern: HOSTNAME_PATTERN })),
  },
  { additionalProperties: false },
);
/** From-BMC request. */
export type NodeFromBmcRequest = Static<typeof NodeFromBmcRequestSchema>;

/**
 * The identifiers a BMC gave for its machine: Redfish `UUID`, `SerialNumber` and the host NICs' MACs of the
 * ComputerSystem; IPMI the System GUID (Get System GUID, IPMI 2.0 22.14) read as an SMBIOS UUID and the FRU's
 * product, board or chassis serial.
 */
export const BmcIdentitySchema = Type.Object({
  uuid: Type.Union([Type.String(), Type.Null()]),
  serial: Type.Union([Type.String(), Type.Null()]),
  macs: Type.Array(Type.String()),
  /** Where each came from, in words (`Redfish /redfish/v1/Systems/1`, `IPMI Get System GUID`, ...). */
  sources: Type.Array(Type.String()),
});
/** BMC identity. */
export type BmcIdentity = Static<typeof BmcIdentitySchema>;

/** Answer of POST /api/v1/nodes/from-bmc and POST /api/v1/nodes/ID/bmc/identify. */
export const NodeFromBmcAnswerSchema = Type.Object({
  node: NodeSchema,
  identity: BmcIdentitySchema,
  /** What the operator should know (an identifier the BMC did not give, one another record holds...). */
  warnings: Type.Array(Type.String()),
});
/** From-BMC answer. */
export type NodeFromBmcAnswer = Static<typeof NodeFromBmcAnswerSchema>;
