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
  CC_ERR_FOREIGN_PXE: {
    status: 409,
    message: 'Another proxyDHCP / PXE boot server answers PXE clients on this link',
    fix: 'Stop the other boot server (two boot servers race for every machine), serve a link without it, or pass `--force` if you are sure.',
  },
  CC_ERR_POOL_INVALID: {
    status: 400,
    message: 'An extra DHCP pool is invalid',
    fix: 'Write `--pool SUBNET/PREFIX:START-END` with a network address, /16 to /30, START-END inside it and no overlap with another pool or the provisioning subnet; pools need `--dhcp full` (docs/dhcp.md).',
  },
  CC_ERR_DHCP_OPTION_INVALID: {
    status: 400,
    message: 'An extra DHCP option is invalid',
    fix: 'Write `--dhcp-option CODE=TYPE:VALUE` (or NAME=TYPE:VALUE) with a settable code and the type the option table gives it, e.g. `42=ips:10.0.0.1`; docs/dhcp.md lists names and types.',
  },
  CC_ERR_RESERVATION_INVALID: {
    status: 400,
    message: 'The DHCP reservation is invalid',
    fix: 'Reserve an address inside a served pool subnet (not its network or broadcast address, not the appliance) for a MAC like aa:bb:cc:dd:ee:ff; full DHCP must be on.',
  },
  CC_ERR_RESERVATION_CONFLICT: {
    status: 409,
    message: 'The address is already reserved or leased to another MAC',
    fix: 'Delete the other reservation (`DELETE /api/v1/reservations/MAC`) or choose a free address; a leased address frees when its lease ends or the machine releases it.',
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
  CC_ERR_DISK_WRITE: {
    status: 507,
    message: 'A write to the data directory failed',
    fix: 'By the reason in the message: ENOSPC (disk full) or EDQUOT (quota): free space on the file system of the data directory the message names (`df -h DIR`; old images and exports are the large files) or raise the quota; EIO: the disk failed the write: check it (`dmesg`, `smartctl -a`) and move the data directory to a sound disk; EROFS: the file system went read-only (often after disk errors, see `dmesg`): remount it read-write (`mount -o remount,rw MOUNTPOINT`) or restart with another `--data-dir`. Then repeat what failed.',
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
    fix: 'Start one with `crashcart serve --iface NIC --data-dir DIR` (the same folder; without --iface it serves a simulated lab), then run the command again. For an appliance on another machine set CRASHCART_URL and CRASHCART_TOKEN.',
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
  CC_ERR_ERASE_CONFIRM: {
    status: 400,
    message: 'An erase must be confirmed with the number of nodes',
    fix: 'Check the selection, then bind again with confirm_count set to the number of nodes selected (the UI asks you to type it; CLI: --confirm-count N). Every disk of those machines will be erased.',
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
  CC_ERR_ISO_INVALID: {
    status: 422,
    message: 'The ISO image is damaged or holds something Crashcart refuses to unpack',
    fix: 'Check the download against its published sha256. Crashcart refuses names like `..`, symbolic links that leave the tree, extents past the end of the image, directory loops and special files; an installer ISO from the distribution has none of these (`xorriso -indev FILE -find / -exec lsdl` lists what it holds).',
  },
  CC_ERR_ISO_NO_REPO: {
    status: 422,
    message: 'The ISO holds no package repository',
    fix: "Give the distribution's installer DVD/CD (Debian and Ubuntu: `dists/` with a Release file; Rocky/Alma/RHEL: `repodata/repomd.xml`, e.g. the DVD with BaseOS and AppStream). To serve an ISO as one file (Ubuntu live-server `url=`), import it as one file with `--iso-file FILE`.",
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
  CC_ERR_SECRET_KEY: {
    status: 500,
    message: 'The secrets key file cannot be used',
    fix: "Restore `secrets.key` in the data dir from the backup made with it; without it stored secrets cannot be read: move the file aside (a new key is made), then enter the BMC passwords and the hooks' webhook URLs and secrets again (each hook's deliveries fail with CC_ERR_HOOK_URL_UNREADABLE or CC_ERR_HOOK_SECRET_UNREADABLE until then).",
  },
  CC_ERR_SECRET_UNREADABLE: {
    status: 500,
    message: 'A stored secret could not be decrypted',
    fix: "The key file changed or the record was altered: enter the secret again (e.g. the node's BMC password), or restore `secrets.key` from the backup of this data dir.",
  },
  CC_ERR_IPMITOOL_MISSING: {
    status: 503,
    message: 'ipmitool is not installed',
    fix: 'Install the Debian package: `sudo apt-get install ipmitool` (Crashcart runs it to talk to IPMI BMCs).',
  },
  CC_ERR_BMC_UNREACHABLE: {
    status: 502,
    message: 'The BMC could not be reached',
    fix: 'Check the BMC address and port, that its network port is cabled to a network this machine reaches (`ping ADDRESS`), and that IPMI over LAN or HTTPS (Redfish) is enabled on the BMC.',
  },
  CC_ERR_BMC_TIMEOUT: {
    status: 504,
    message: 'The BMC did not answer in time',
    fix: 'The BMC may be busy or hung: retry in a minute; if it keeps timing out, reset the BMC from its web UI (or `ipmitool mc reset cold`); the timeouts are explained in docs/bmc.md.',
  },
  CC_ERR_BMC_AUTH: {
    status: 502,
    message: 'The BMC refused the user name or password',
    fix: "Enter the BMC user and password again (the node's BMC form, or `PUT /api/v1/nodes/ID/bmc`); for IPMI the user needs administrator privilege and IPMI over LAN enabled.",
  },
  CC_ERR_BMC_REFUSED: {
    status: 502,
    message: 'The BMC refused the request',
    fix: 'The BMC does not offer this action or setting (the message names it): pick another, set the boot order in the firmware setup instead, or update the BMC firmware.',
  },
  CC_ERR_BMC_PROTOCOL: {
    status: 502,
    message: 'The BMC answered something Crashcart does not understand',
    fix: 'Check that the address is the BMC (IPMI 2.0 or Redfish) and not the host OS, and that its firmware is current; the answer is quoted in the message.',
  },
  CC_ERR_BMC_SYSTEM_PATH: {
    status: 409,
    message: 'The Redfish service does not say which system to control',
    fix: "Set the BMC's system path to one of the members listed in the message (e.g. /redfish/v1/Systems/1).",
  },
  CC_ERR_BMC_TLS_UNTRUSTED: {
    status: 502,
    message: "The BMC's TLS certificate is not trusted",
    fix: 'BMCs usually have self-signed certificates: use the TLS policy "pin" (trust on first use, the default) or install the BMC\'s CA on this machine; "skip" turns checking off.',
  },
  CC_ERR_BMC_TLS_CHANGED: {
    status: 502,
    message: "The BMC's TLS certificate changed since it was pinned",
    fix: 'If the BMC certificate was replaced on purpose (new certificate, firmware update), set the node\'s BMC again with TLS "pin" to pin the new one; otherwise something may be impersonating the BMC: check the network first.',
  },
  CC_ERR_BMC_NOT_CONFIGURED: {
    status: 409,
    message: 'The node has no BMC configured',
    fix: "Set the node's BMC (its BMC form in the UI, `crashcart nodes bmc set ID ...`, or `PUT /api/v1/nodes/ID/bmc`), or let the microkernel enrol it in-band (setting bmc_enrol_inband, docs/bmc.md).",
  },
  CC_ERR_BMC_ENROL_NOT_REQUESTED: {
    status: 409,
    message: 'In-band BMC enrolment was not requested for this node',
    fix: 'The appliance asks an agent to enrol only while bmc_enrol_inband allows it, the node is approved (when approval_required is on) and the node has no BMC yet; check those, or set the BMC by hand.',
  },
  CC_ERR_BMC_NOTHING_TO_ACCEPT: {
    status: 409,
    message: 'No in-band enrolment of this node waits for the operator',
    fix: "Accept applies to a node whose BMC has no LAN address or an address outside bmc_allowed_subnets (the node's page says so); otherwise set the BMC by hand.",
  },
  CC_ERR_BMC_NO_IDENTITY: {
    status: 422,
    message: 'The BMC gave no UUID, serial or MAC of its machine: a record made from it could never be claimed',
    fix: 'Add the machine with its serial or a MAC (manifest row, or `crashcart nodes bmc expect` after giving the BMC a FRU/SMBIOS serial), or power it on at the BMC and set its BMC once it registered.',
  },
  CC_ERR_BMC_MACHINE_KNOWN: {
    status: 409,
    message: 'A node already holds an identifier this BMC gave for its machine',
    fix: 'Set the BMC on that node (PUT /api/v1/nodes/ID/bmc, `crashcart nodes bmc set ID`) instead of making a second record; if they are different machines, correct the BMC address.',
  },
  CC_ERR_BMC_NOT_EXPECTED: {
    status: 409,
    message: 'Identifiers are read from the BMC only for an expected record no machine has claimed yet',
    fix: 'A claimed node already has the identifiers its machine reported; to read a BMC for a new machine use POST /api/v1/nodes/from-bmc, and set the BMC first (PUT /api/v1/nodes/ID/bmc) on a manifest record.',
  },
  CC_ERR_LOADER_TOOLS: {
    status: 500,
    message: 'The tools that fetch first-stage loaders are missing',
    fix: 'Prepare on Debian or Ubuntu, where `apt-get` and `dpkg-deb` exist (plus `debian-archive-keyring` on Ubuntu), or copy a prepared loaders folder from such a machine.',
  },
  CC_ERR_LOADER_FETCH: {
    status: 502,
    message: 'A first-stage loader package could not be downloaded',
    fix: 'Prepare while the Debian mirror is reachable (before going to an air-gapped rack). If apt says the pinned version was not found, Debian replaced it: pass a mirror that still has it (a snapshot.debian.org archive) or update the pins (docs/boot.md, "Updating a pin").',
  },
  CC_ERR_LOADER_CHECKSUM: {
    status: 502,
    message: 'A first-stage loader does not match its pinned sha256',
    fix: 'Run prepare again: the file that did not match was deleted. If it repeats, the mirror serves another build than the pin records: use another mirror or update the pins (docs/boot.md, "Updating a pin").',
  },
  CC_ERR_LOADER_UNPACK: {
    status: 500,
    message: 'A first-stage loader could not be taken out of its package',
    fix: 'Check free space and write access in the target and cache folders; a path missing from the package means the pin names the wrong file (docs/boot.md, "Updating a pin").',
  },
  CC_ERR_BUSY: {
    status: 503,
    message: 'The appliance is receiving as many request bodies as it holds at once',
    fix: "Nothing to do for a machine: its agent sends again after Retry-After. If it lasts, many addresses are sending large bodies at once (a flood): find them in the node plane's log and events, and take them off the rack network.",
  },
  CC_ERR_NOT_READY: {
    status: 503,
    message: 'The appliance is not ready to serve a rack',
    fix: 'Fix the rows marked FAIL in the readiness table, each names its fix (`crashcart doctor` prints it again); missing loaders and microkernel come from `crashcart prepare`, run while the Debian mirror is reachable (docs/prepare.md).',
  },
  CC_ERR_PREPARE_UNAVAILABLE: {
    status: 501,
    message: 'This artifact cannot be prepared by this installation',
    fix: 'Prepare it in a source checkout of the same version (`crashcart prepare` there builds it) and carry it over with `crashcart bundle export` / `bundle import`, or use what the package ships (`crashcart doctor` shows it).',
  },
  CC_ERR_MICROKERNEL_BUILD: {
    status: 500,
    message: 'The microkernel build failed',
    fix: 'Read the build output above the error (it names the missing tool or package and its fix); `npm run build:microkernel` runs the same build by hand. It needs the Debian mirror, dpkg-deb, strip (binutils) and xz or zstd.',
  },
  CC_ERR_BUNDLE_INVALID: {
    status: 400,
    message: 'The bundle is not a valid Crashcart bundle',
    fix: 'Nothing was written. Export the bundle again with `crashcart bundle export FILE` on the prepared machine and copy it whole (compare its sha256 on both machines); a bundle that names paths outside its folders, links or devices is refused on purpose.',
  },
  CC_ERR_BUNDLE_CHECKSUM: {
    status: 400,
    message: 'A file in the bundle does not match the sha256 its manifest records',
    fix: 'Nothing was written. The copy is damaged or was altered: export it again and compare its sha256 on both machines before importing.',
  },
  CC_ERR_BUNDLE_CONFLICT: {
    status: 409,
    message: 'The bundle cannot be imported into this data dir as it is',
    fix: 'Nothing was written. Import nodes only into a data dir without nodes (a fresh `--data-dir`), or export the bundle without `--with-nodes`.',
  },
  CC_ERR_CLI_USAGE: {
    status: 400,
    message: 'The command line is not understood',
    fix: 'Run `crashcart help` for the nouns and `crashcart help NOUN` for its verbs and flags (docs/cli.md).',
  },
  CC_ERR_CLI_FILE: {
    status: 400,
    message: 'A file named on the command line cannot be used',
    fix: 'Correct the path after the flag the message names. ENOENT: it does not exist (for an output file, its folder does not); EACCES or EPERM: this user may not read or write it (`ls -l PATH`), so fix its permissions or name another path; EISDIR: it is a folder, so name a file; ENOSPC: the file system is full.',
  },
  CC_ERR_APPLIANCE_UNREACHABLE: {
    status: 503,
    message: 'The appliance named by CRASHCART_URL does not answer',
    fix: 'Check CRASHCART_URL (the admin URL `crashcart serve` printed) and that the appliance runs; start one with `crashcart serve --iface NIC`. Over HTTPS also set CRASHCART_FINGERPRINT to the fingerprint it printed.',
  },
  CC_ERR_HOOK_INVALID: {
    status: 400,
    message: 'The hook is not complete',
    fix: 'A script hook names a file in <data-dir>/hooks/ (`script`, executable, no path); a webhook names `url` (http or https) and may take a `secret` of 16+ characters (docs/hooks.md).',
  },
  CC_ERR_HOOK_SECRET_UNREADABLE: {
    status: 500,
    message: "The webhook's stored secret could not be decrypted, so the delivery was not sent",
    fix: 'Enter the hook\'s secret again (the Hooks screen, `PUT /api/v1/hooks/ID` with `"secret"`, or `crashcart hooks update ID` with the add flags and `--secret S`), then fire a test; or restore `secrets.key` from the backup of this data dir. Deliveries are never sent unsigned (docs/hooks.md).',
  },
  CC_ERR_HOOK_URL_UNREADABLE: {
    status: 500,
    message: "The webhook's stored URL could not be decrypted, so the delivery was not sent",
    fix: 'Enter the hook\'s URL again (the Hooks screen, `PUT /api/v1/hooks/ID` with `"url"`, or `crashcart hooks update ID` with the add flags and `--url U`), then fire a test; or restore `secrets.key` from the backup of this data dir (docs/hooks.md).',
  },
  CC_ERR_HOOK_DELIVERY_FAILED: {
    status: 502,
    message: 'A hook delivery failed after its last attempt and will not be retried',
    fix: "The hook's delivery log (the Hooks screen, `GET /api/v1/hooks/ID/deliveries`) says why: a receiver's HTTP status, a timeout or an unreachable host, or a script's exit code and stderr. Fix the receiver or the script, then fire a test (`POST /api/v1/hooks/ID/test`); the failed delivery itself is not sent again (docs/hooks.md).",
  },
  CC_ERR_POLICY_INVALID: {
    status: 400,
    message: 'The policy settings are invalid',
    fix: 'Correct the field named in the message: a root password hash is a crypt(3) string ($6$..., $y$...) or send root_password to have it hashed; each SSH key is one OpenSSH public key line (TYPE BASE64 COMMENT); fill the fields the task declares (GET /api/v1/tasks/NAME, docs/policies.md); metadata.root_device holds only the root device hints of docs/deploy.md.',
  },
  CC_ERR_POLICY_UNREACHABLE: {
    status: 409,
    message: 'The policy would install machines nobody can log in to',
    fix: 'Give the policy an SSH key or a root password; or, if that is on purpose (e.g. the image brings its own access), save again with confirm_unreachable: true (the UI asks).',
  },
  CC_ERR_MANIFEST_INVALID: {
    status: 400,
    message: 'The rack manifest cannot be read',
    fix: 'Save the spreadsheet as CSV in UTF-8 with a header row (serial, mac, hostname, ip, policy, bmc_address; other columns become metadata) or as JSON; the message names the line and byte where reading stopped (docs/manifest.md).',
  },
  CC_ERR_MANIFEST_ROWS: {
    status: 409,
    message: 'Some manifest rows have errors or conflicts',
    fix: "Preview the manifest (UI, or POST /api/v1/manifest/preview) to see each row's reason; fix those rows, merge the records they point at, or import the others with skip_invalid: true.",
  },
  CC_ERR_INTERNAL: { status: 500, message: 'Internal error', fix: 'Look at the log for the stack trace and report it with the event log.' },
} as const satisfies Record<string, { status: number; message: string; fix: string }>;

/** One error code. */
export type ErrorCode = keyof typeof ERRORS;
