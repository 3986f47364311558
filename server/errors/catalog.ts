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
    fix: 'Run as root, or grant the capability once: `sudo setcap cap_net_bind_service,cap_net_raw+ep "$(readlink -f "$(which node)")"` (see docs/privileges.md).',
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
  CC_ERR_TOOL_MISSING: {
    status: 500,
    message: 'A program this step needs is not installed',
    fix: 'Install the Debian package named in the message: `sudo apt-get install -y --no-install-recommends PACKAGE` (qemu-img is in qemu-utils, mkfs.vfat in dosfstools, mcopy in mtools, xz in xz-utils).',
  },
  CC_ERR_DISK_IMAGE_FORMAT: {
    status: 415,
    message: 'The file is not a disk image Crashcart imports',
    fix: 'Give a raw disk image, raw compressed with zstd, xz or gzip, or qcow2; convert VMDK/VHD(X)/VDI first with `qemu-img convert -O raw IN disk.raw`; import installer ISOs with `crashcart image import --iso`.',
  },
  CC_ERR_DISK_IMAGE_INVALID: {
    status: 422,
    message: 'The disk image is damaged, truncated or has no usable partition table',
    fix: 'Check the download against its published sha256 and that the file is a whole disk (not one partition or filesystem); `sfdisk -l FILE` and `sgdisk -v FILE` show what is wrong.',
  },
  CC_ERR_IMAGE_EXISTS: {
    status: 409,
    message: 'An image with this name already exists',
    fix: 'Choose another name (`--name`), or delete the old image first (UI, `DELETE /api/v1/images/NAME`) once no policy uses it.',
  },
  CC_ERR_IMAGE_BUILD: {
    status: 500,
    message: 'The disk image build failed',
    fix: 'Read the step and the log lines in the message. The build needs the Debian mirror (`--mirror URL` for a local one), about 3 GiB free in the output folder, and root or working user namespaces (docs/images.md).',
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
