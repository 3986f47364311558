/** The appliance's version, as /api/v1/health and the CLI report it. */
export const VERSION = '0.1.0';
