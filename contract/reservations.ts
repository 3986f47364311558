/** DHCP reservation bodies of the admin API (`/api/v1/reservations`), shared by server and renderer. */
import { Type, type Static } from 'typebox';

/** A MAC in the URL: `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, any case (the server stores lowercase with colons). */
export const ReservationMacSchema = Type.String({ pattern: '^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$' });

/** PUT body: the address to reserve and an optional host name (option 12). */
export const ReservationInputSchema = Type.Object(
  {
    ip: Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' }),
    hostname: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 253 }), Type.Null()])),
  },
  { additionalProperties: false },
);
/** Reservation input. */
export type ReservationInput = Static<typeof ReservationInputSchema>;

/** One reservation. */
export const ReservationSchema = Type.Object({
  mac: Type.String(),
  ip: Type.String(),
  hostname: Type.Union([Type.String(), Type.Null()]),
});
/** A reservation. */
export type ReservationView = Static<typeof ReservationSchema>;

/** Path of the routes that name one reservation. */
export const ReservationParamsSchema = Type.Object({ mac: ReservationMacSchema });

/** GET /api/v1/reservations */
export const ReservationListSchema = Type.Object({ reservations: Type.Array(ReservationSchema) });
/** The reservation list. */
export type ReservationList = Static<typeof ReservationListSchema>;
