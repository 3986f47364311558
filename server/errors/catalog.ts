/**
 * The one catalog of Crashcart error codes. Every entry says what went wrong
 * and the fix. docs/errors.md is kept in step by a test.
 */
export const ERRORS = {
  CC_ERR_CONFIG_INVALID: {
    status: 400,
    message: 'The configuration is invalid',
    fix: 'Correct the flag or setting named in the message; see `crashcart serve --help` and docs/config.md.',
  },
  CC_ERR_IFACE_NOT_FOUND: {
    status: 400,
    message: 'The provisioning interface does not exist',
    fix: 'Pick one of the interfaces listed by `ip -br link`, e.g. `--iface enp0s31f6`.',
  },
  CC_ERR_IFACE_NO_ADDRESS: {
    status: 400,
    message: 'The provisioning interface has no IPv4 address',
    fix: 'Give it one (`ip addr add 10.0.0.1/24 dev IFACE`) or pass `--address IP/PREFIX`.',
  },
  CC_ERR_RANGE_INVALID: {
    status: 400,
    message: 'The DHCP range is not inside the provisioning subnet',
    fix: 'Pass `--range START-END` with both ends inside the subnet of `--address` and START <= END.',
  },
  CC_ERR_PORT_DENIED: {
    status: 500,
    message: 'Binding a privileged port was refused',
    fix: 'Run Crashcart as the systemd service resources/systemd/crashcart.service (CAP_NET_BIND_SERVICE and CAP_NET_RAW for that service only), or as root. Do not setcap the system node: every Node program would get raw sockets (docs/privileges.md).',
  },
  CC_ERR_PORT_IN_USE: {
    status: 500,
    message: 'The port is already in use',
    fix: 'Stop the other service on that port (`ss -lunpt | grep PORT`) or choose another port.',
  },
  CC_ERR_ADMIN_EXPOSED: {
    status: 400,
    message: 'The admin plane would listen beyond loopback without a token',
    fix: 'Keep `--admin-listen 127.0.0.1:8027`, or pass `--admin-token-required` (the token in `crashcart token`) to expose it.',
  },
  CC_ERR_FOREIGN_DHCP: {
    status: 409,
    message: 'Another DHCP server answers on this link',
    fix: 'Use `--dhcp proxy` to serve boot information beside it, or `--force` if you are sure.',
  },
  CC_ERR_DATA_DIR: {
    status: 500,
    message: 'The data directory cannot be used',
    fix: 'Check that the folder exists and is writable by this user, or pass `--data-dir DIR`.',
  },
  CC_ERR_DATA_DIR_LOCKED: {
    status: 409,
    message: 'Another Crashcart process is using the data directory',
    fix: 'Stop the other process named in the message, or pass another `--data-dir`. CLI commands that change data (`image import`, `microkernel import`) go through the running appliance by themselves.',
  },
  CC_ERR_STORE_CORRUPT: {
    status: 500,
    message: 'The store could not be loaded',
    fix: 'Restore the data directory from a backup, or move the named file aside to start empty.',
  },
  CC_ERR_UNAUTHORIZED: {
    status: 401,
    message: 'A valid admin token is required',
    fix: 'Send `Authorization: Bearer <token>`; `crashcart token` prints it.',
  },
  CC_ERR_SESSION_EXPIRED: {
    status: 401,
    message: 'The browser session has ended',
    fix: 'Sign in again: `crashcart login` prints a fresh one-time link (sessions end after 8 h idle or 24 h; see --session-idle and --session-lifetime).',
  },
  CC_ERR_LOGIN_CODE: {
    status: 401,
    message: 'The login code is unknown, already used or older than 10 minutes',
    fix: 'Run `crashcart login` for a fresh one-time link (each code works once, for 10 minutes), or paste the token from `crashcart token`.',
  },
  CC_ERR_HOST_NOT_ALLOWED: {
    status: 421,
    message: 'The admin plane does not answer to this host name',
    fix: 'Open the UI by the address `serve` printed (or 127.0.0.1 / localhost); to use a DNS name, start with `--admin-hostname NAME`.',
  },
  CC_ERR_CROSS_ORIGIN: {
    status: 403,
    message: 'A browser write must come from the Crashcart UI itself',
    fix: 'Use the UI served by the appliance; scripts should send `Authorization: Bearer <token>` (`crashcart token`) instead of a cookie.',
  },
  CC_ERR_UNSUPPORTED_MEDIA: {
    status: 415,
    message: 'The request body has a media type this route does not take',
    fix: 'Send JSON with `Content-Type: application/json` (file uploads: `application/octet-stream`); the schema is at /api/docs.',
  },
  CC_ERR_TLS: {
    status: 500,
    message: 'The admin plane cannot set up HTTPS',
    fix: 'Install `openssl` (Debian package openssl) so a certificate can be generated into the data dir, or pass `--admin-cert FILE --admin-key FILE` (PEM).',
  },
  CC_ERR_TLS_PIN: {
    status: 502,
    message: 'The admin plane presented a certificate other than the pinned one',
    fix: 'Compare with the fingerprint `crashcart serve` printed. If the certificate was replaced on purpose, restart the appliance so the data dir names the new one; otherwise something is intercepting the connection.',
  },
  CC_ERR_NOT_RUNNING: {
    status: 503,
    message: 'No Crashcart appliance is running on this data directory',
    fix: 'Start it with `crashcart serve --data-dir DIR` (the same folder), then run the command again.',
  },
  CC_ERR_FORBIDDEN: {
    status: 403,
    message: 'This credential may not do that',
    fix: 'Use the token the boot script or the register answer gave this node.',
  },
  CC_ERR_BAD_REQUEST: {
    status: 400,
    message: 'The request is malformed',
    fix: 'Correct the field named in the message; the schema is at /api/docs.',
  },
  CC_ERR_NOT_FOUND: { status: 404, message: 'No such object', fix: 'List what exists with the matching GET endpoint.' },
  CC_ERR_CONFLICT: {
    status: 409,
    message: 'The object conflicts with an existing one',
    fix: 'Choose another name, or update the existing object instead.',
  },
  CC_ERR_TOO_LARGE: {
    status: 413,
    message: 'The request body is too large',
    fix: 'Exclude bulky facts with `facts_exclude_pattern`; the limit is 2 MiB.',
  },
  CC_ERR_RATE_LIMITED: {
    status: 429,
    message: 'Too many requests from this source',
    fix: 'Back off and retry; the agent does this itself.',
  },
  CC_ERR_RULE_INVALID: {
    status: 400,
    message: 'The tag rule is invalid',
    fix: 'Rules are prefix expressions like ["=", ["fact", "manufacturer"], "Dell Inc."]; see docs/rules.md.',
  },
  CC_ERR_TEMPLATE_INVALID: {
    status: 400,
    message: 'The template is invalid',
    fix: 'Fix the template at the position named; see docs/tasks.md for the syntax.',
  },
  CC_ERR_POLICY_FULL: {
    status: 409,
    message: 'The policy has no free slot',
    fix: "Raise the policy's max_count or unbind a node from it.",
  },
  CC_ERR_IN_USE: { status: 409, message: 'The object is in use', fix: 'Unbind the nodes or edit the policies that refer to it first.' },
  CC_ERR_NO_MICROKERNEL: {
    status: 503,
    message: 'No microkernel is installed',
    fix: 'Run `npm run build:microkernel` or `crashcart microkernel import DIR`.',
  },
  CC_ERR_IMAGE_IMPORT: {
    status: 400,
    message: 'The image could not be imported',
    fix: 'Point at a readable kernel and initrd (or an ISO) and check free space in the data directory.',
  },
  CC_ERR_LAB_PROFILES: {
    status: 500,
    message: 'The simulated rack has no usable hardware profile',
    fix: 'Restore resources/lab-profiles from the repository (each folder holds saved tool outputs with at least one NIC; see docs/agent.md), or run without --lab.',
  },
  CC_ERR_TFTP_NO_ROOT: {
    status: 500,
    message: 'No TFTP root folder exists, so TFTP can serve nothing',
    fix: 'Run `scripts/fetch-ipxe.sh` to fill resources/ipxe, or pass `--tftp-root DIR` naming an existing folder.',
  },
  CC_ERR_INTERNAL: { status: 500, message: 'Internal error', fix: 'Look at the log for the stack trace and report it with the event log.' },
} as const satisfies Record<string, { status: number; message: string; fix: string }>;

/** One error code. */
export type ErrorCode = keyof typeof ERRORS;
