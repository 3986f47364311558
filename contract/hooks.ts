/** Hooks (docs/hooks.md): a script or a signed webhook run on chosen node events, and their delivery log. */
import { Type, type Static } from 'typebox';

/** The node events a hook can be chosen for. */
export const HOOK_EVENTS = ['registered', 'bound', 'installed', 'failed', 'lost'] as const;
/** One hook event. */
export type HookEvent = (typeof HOOK_EVENTS)[number];

/** Why a delivery failed for good (`hook.failed` data.code; the fixes are in docs/errors.md). */
export const HOOK_FAILURE_CODES = ['CC_ERR_HOOK_DELIVERY_FAILED', 'CC_ERR_HOOK_URL_UNREADABLE', 'CC_ERR_HOOK_SECRET_UNREADABLE'] as const;

/**
 * A webhook URL as written: write-only like `secret` (a URL often carries a token in its path, userinfo or query),
 * stored sealed; answers show its display form (docs/hooks.md, "Webhook URLs").
 */
const WebhookUrl = Type.String({ pattern: '^https?://', maxLength: 2048 });

/** A script file name in `<data-dir>/hooks/`: no path, no leading dot. */
const ScriptName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' });

/** POST /api/v1/hooks body. `url` and `secret` are write-only: stored sealed, never answered (`url` only in its display form). */
export const HookInputSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$' }),
    events: Type.Array(Type.Enum(HOOK_EVENTS), { minItems: 1, maxItems: HOOK_EVENTS.length, uniqueItems: true }),
    kind: Type.Union([Type.Literal('script'), Type.Literal('webhook')]),
    script: Type.Optional(ScriptName),
    url: Type.Optional(WebhookUrl),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  },
  { additionalProperties: false },
);
/** Hook input. */
export type HookInput = Static<typeof HookInputSchema>;

/**
 * PUT /api/v1/hooks/:id body: the whole hook again, but `url` absent (or the display form the API answered) keeps
 * a webhook's stored URL, `secret` absent keeps the stored one, `null` removes it.
 */
export const HookUpdateSchema = Type.Object(
  {
    ...HookInputSchema.properties,
    secret: Type.Optional(Type.Union([Type.String({ minLength: 16, maxLength: 256 }), Type.Null()])),
  },
  { additionalProperties: false },
);
/** Hook update. */
export type HookUpdate = Static<typeof HookUpdateSchema>;

/** A hook as the API answers it: never the secret, and `url` only in its display form (secret parts as `…`). */
export const HookSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  events: Type.Array(Type.String()),
  kind: Type.Union([Type.Literal('script'), Type.Literal('webhook')]),
  script: Type.Union([Type.String(), Type.Null()]),
  url: Type.Union([Type.String(), Type.Null()]),
  has_secret: Type.Boolean(),
  created_at: Type.String(),
});
/** A hook. */
export type Hook = Static<typeof HookSchema>;

/** GET /api/v1/hooks answer. */
export const HookListSchema = Type.Object({ hooks: Type.Array(HookSchema) });

/** :id of a hook. */
export const HookIdParamsSchema = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9]{1,32}$' }) });

/** One delivery attempt series of one hook for one event (`event` is `test` for a test-fire). */
export const HookDeliverySchema = Type.Object({
  id: Type.String(),
  hook_id: Type.String(),
  event: Type.String(),
  event_seq: Type.Integer(),
  node_id: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.Union([Type.Literal('pending'), Type.Literal('retrying'), Type.Literal('ok'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  last_error: Type.Union([Type.String(), Type.Null()]),
  /** When the next retry is due while pending or retrying; null once ok or failed. */
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});
/** A delivery. */
export type HookDelivery = Static<typeof HookDeliverySchema>;

/** GET /api/v1/hooks/:id/deliveries answer (newest first). */
export const HookDeliveryListSchema = Type.Object({ deliveries: Type.Array(HookDeliverySchema) });
