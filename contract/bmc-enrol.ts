/**
 * In-band BMC enrolment on the node plane (docs/bmc.md "In-band enrolment"): the appliance asks a running agent
 * to enrol (a check-in answer carrying `bmc_enrol: true`), the agent creates or reuses the `crashcart` IPMI user
 * over the local KCS interface and reports here, authenticated by its agent token (docs/identity.md 2).
 */
import { Type, type Static } from 'typebox';
import { BMC_ENROLMENT_STATES } from './bmc.ts';

const Ipv4 = Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$', maxLength: 15 });
const Mac = Type.String({ pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$' });
const Auth = { node_id: Type.Integer({ minimum: 1 }), agent_token: Type.String({ minLength: 8, maxLength: 256 }) };

/** The agent enrolled the BMC: where it is and the credentials it set. */
export const BmcEnrolledReportSchema = Type.Object(
  {
    ...Auth,
    outcome: Type.Literal('enrolled'),
    /** The BMC's own LAN address (`lan print`); null when it has none (0.0.0.0 or unset). */
    address: Type.Union([Ipv4, Type.Null()]),
    ip_source: Type.Optional(Type.String({ maxLength: 64 })),
    mac: Type.Optional(Type.Union([Mac, Type.Null()])),
    /** The LAN channel the user was enabled on. */
    channel: Type.Integer({ minimum: 1, maximum: 15 }),
    /** The user slot (IPMI 2.0 22.26: 1 is the anonymous user, never used). */
    user_id: Type.Integer({ minimum: 2, maximum: 63 }),
    username: Type.String({ minLength: 1, maxLength: 16, pattern: '^[\\x21-\\x7e]+$' }),
    /** IPMI passwords are at most 20 bytes (IPMI 2.0 22.30); printable, no space. */
    password: Type.String({ minLength: 8, maxLength: 20, pattern: '^[\\x21-\\x7e]+$' }),
    /** True when an existing `crashcart` user was reused (its password replaced). */
    reused: Type.Boolean(),
    /** Steps that failed without stopping enrolment (shown in the event). */
    warnings: Type.Optional(Type.Array(Type.String({ maxLength: 512 }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);
/** An enrolled report. */
export type BmcEnrolledReport = Static<typeof BmcEnrolledReportSchema>;

/** The agent could not enrol (no KCS interface, no free slot, a refused command). */
export const BmcFailedReportSchema = Type.Object(
  { ...Auth, outcome: Type.Literal('failed'), reason: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
/** A failed report. */
export type BmcFailedReport = Static<typeof BmcFailedReportSchema>;

/** POST /api/v1/bmc-enrol */
export const BmcEnrolReportSchema = Type.Union([BmcEnrolledReportSchema, BmcFailedReportSchema]);
/** An enrolment report. */
export type BmcEnrolReport = Static<typeof BmcEnrolReportSchema>;

/** Answer to a report: where enrolment of this node stands now. */
export const BmcEnrolAnswerSchema = Type.Object({ state: Type.Enum(BMC_ENROLMENT_STATES) });
/** Enrolment answer. */
export type BmcEnrolAnswer = Static<typeof BmcEnrolAnswerSchema>;
