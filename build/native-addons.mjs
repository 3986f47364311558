// The names of Crashcart's own N-API addons (native/<name>.c): build/native.mjs compiles them and
// build/package-deb.mjs ships them; server/net/native-addon.ts loads one by name.
export const ADDONS = ['sendfile', 'tftp-pump', 'udp-batch', 'reexec', 'sched-policy', 'fsync-thread'];
