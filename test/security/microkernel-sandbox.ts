/**
 * Sandboxes for the microkernel's DHCP hook (build/microkernel/rootfs/udhcpc.script): the microkernel's own
 * busybox (busybox-static from the image build, whose shell runs its applets before PATH, exactly as in the
 * image), a private /run and /etc (tmpfs) in a mount namespace, and a network namespace of their own.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The hook under test and the supervisor that starts the agent after it. */
export const HOOK = path.join(ROOT, 'build/microkernel/rootfs/udhcpc.script');
export const SUPERVISOR = path.join(ROOT, 'build/microkernel/rootfs/supervise-agent');

/**
 * The busybox the microkernel ships: `busybox-static` as build.mjs unpacked it (the manifest names the same
 * version), else Debian's `busybox` package (same source version in Debian 12).
 */
export function microkernelBusybox(): { file: string; from: string } {
  const unpacked = path.join(ROOT, 'build/out/cache/unpacked');
  const dir = existsSync(unpacked) ? readdirSync(unpacked).find((d) => d.startsWith('busybox-static_')) : undefined;
  if (dir && existsSync(path.join(unpacked, dir, 'bin/busybox'))) {
    const version = decodeURIComponent(dir.slice('busybox-static_'.length));
    const manifest = path.join(ROOT, 'build/out/microkernel/manifest.json');
    const inImage =
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { packages?: { name: string; version: string }[] }).packages?.some(
        (p) => p.name === 'busybox-static' && p.version === version,
      );
    return {
      file: path.join(unpacked, dir, 'bin/busybox'),
      from: `busybox-static ${version}${inImage ? ' (the one in build/out/microkernel)' : ''}`,
    };
  }
  if (existsSync('/usr/bin/busybox')) return { file: '/usr/bin/busybox', from: "Debian's busybox package" };
  throw new Error('no busybox found\n  fix: npm run build:microkernel (unpacks busybox-static), or apt-get install busybox');
}

/** `T/bin`: busybox and a link per applet, like the image's /usr/bin; returns the busybox path in it. */
export function makeBin(t: string, busybox: string): string {
  const bin = path.join(t, 'bin');
  mkdirSync(bin, { recursive: true });
  const bb = path.join(bin, 'busybox');
  copyFileSync(busybox, bb);
  chmodSync(bb, 0o755);
  for (const a of execFileSync(bb, ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (a && a !== 'busybox' && !existsSync(path.join(bin, a))) symlinkSync('busybox', path.join(bin, a));
  }
  return bb;
}

/** Write an executable script. */
export function script(file: string, text: string): string {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
  return file;
}

/**
 * Shell run inside `unshare --mount --net --pid --fork`: private /run and /etc, a veth pair as eth0, then the
 * hook for each event in $3 (comma list) with exactly the environment given as arguments (env -i), then a
 * snapshot of what it left in $2. Host tools by absolute path before /etc is hidden, busybox applets after.
 */
const DIRECT = `set -e
T=$1 OUT=$2 EVENTS=$3
shift 3
BB="$T/bin/busybox"
mkdir -p "$OUT"
/usr/bin/mount -t tmpfs -o mode=0755 tmpfs /run
/usr/sbin/ip link set lo up
/usr/sbin/ip link add eth0 type veth peer name peer0
/usr/sbin/ip link set peer0 up
/usr/sbin/ip link set eth0 up
/usr/bin/mount -t tmpfs -o mode=0755 tmpfs /etc
"$BB" mkdir -p /run/crashcart
rc=0
for ev in $("$BB" echo "$EVENTS" | "$BB" tr , ' '); do
  extra=
  case "$ev" in *+*) extra=\${ev#*+} ev=\${ev%%+*} ;; esac
  # PIDs in this namespace are handed out in order: the two markers' PIDs differ by the hook's own process, the
  # marker's and every process the hook started.
  "$BB" sh -c 'echo $$' >>"$OUT/pids"
  # shellcheck disable=SC2086 # extra is KEY=VALUE words from the test, split on purpose
  "$BB" env -i "PATH=$T/bin" "$@" $extra "$BB" sh "$HOOK" "$ev" 2>>"$OUT/stderr" || rc=$?
  "$BB" sh -c 'echo $$' >>"$OUT/pids"
done
echo "$rc" >"$OUT/rc"
"$BB" cp -r /run/crashcart "$OUT/run"
"$BB" cat /etc/resolv.conf >"$OUT/resolv.conf" 2>/dev/null || :
"$BB" ip -4 -o addr show dev eth0 >"$OUT/addr"
"$BB" ip -4 route >"$OUT/route"
`;

/** What the hook left behind. */
export interface HookRun {
  rc: number;
  stderr: string;
  /** /run/crashcart/<file> -> text. */
  run: Map<string, string>;
  resolv: string;
  addr: string;
  route: string;
  /** Processes each hook run started (DIRECT only; empty for udhcpc). */
  processes: number[];
}

/** Read a snapshot directory written by a sandbox. */
export function readSnapshot(out: string): HookRun {
  const rd = (f: string): string => (existsSync(path.join(out, f)) ? readFileSync(path.join(out, f), 'latin1') : '');
  const run = new Map<string, string>();
  const runDir = path.join(out, 'run');
  if (existsSync(runDir)) for (const f of readdirSync(runDir)) run.set(f, readFileSync(path.join(runDir, f), 'latin1'));
  const pids = rd('pids').split('\n').filter(Boolean).map(Number);
  const processes: number[] = [];
  for (let i = 0; i + 1 < pids.length; i += 2) processes.push(pids[i + 1]! - pids[i]! - 2);
  return {
    rc: Number(rd('rc').trim() || '0'),
    stderr: rd('stderr'),
    run,
    resolv: rd('resolv.conf'),
    addr: rd('addr'),
    route: rd('route'),
    processes,
  };
}

/**
 * Run the hook for `events` with exactly `env` (KEY=VALUE strings, any bytes but NUL) in a fresh sandbox. An event
 * may carry values of its own after a `+`, e.g. `bound+ip=10.77.0.60` (plain KEY=VALUE words, no spaces).
 */
export function runHook(t: string, out: string, events: string[], env: string[]): HookRun {
  execFileSync(
    'unshare',
    ['--mount', '--net', '--pid', '--fork', '--mount-proc', '/bin/sh', '-c', DIRECT, 'sandbox', t, out, events.join(','), ...env],
    { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOOK }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 },
  );
  return readSnapshot(out);
}

/** Parse a lease file (key=value lines) the way a reader must: split at the first '='. */
export function leaseMap(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) m.set(l.slice(0, i), l.slice(i + 1));
  }
  return m;
}

/** The keys of a lease file, in order. */
export const LEASE_KEYS = [
  'interface',
  'ip',
  'mask',
  'broadcast',
  'router',
  'dns',
  'domain',
  'hostname',
  'serverid',
  'siaddr',
  'boot_file',
  'tftp',
  'lease',
];

/** Every line a lease file may hold: a known key and only characters the hook lets through. */
export const SAFE_LEASE_LINE = /^[a-z_]+=[A-Za-z0-9._~/:@%+=,?&# -]*$/;

/** Files a payload's `touch` would have created in `t`. */
export function canaries(t: string): string[] {
  return readdirSync(t).filter((f) => f.startsWith('p-'));
}

/**
 * Shell run inside `ip netns exec NS unshare --mount --pid --fork` (NS holds eth0, cabled to the rogue DHCP
 * server's namespace): udhcpc from the microkernel's busybox with init's options, in the foreground, quitting
 * once bound; then, when $4 names it, the agent supervisor with the stub `node` in $T/bin until it started the
 * agent once. Snapshot as in DIRECT.
 */
const UDHCPC = `set -e
T=$1 OUT=$2 HOOKW=$3 SUP=$4
BB="$T/bin/busybox"
mkdir -p "$OUT"
/usr/bin/mount -t tmpfs -o mode=0755 tmpfs /run
/usr/sbin/ip link set lo up
/usr/sbin/ip link set eth0 up
/usr/bin/mount -t tmpfs -o mode=0755 tmpfs /etc
"$BB" mkdir -p /run/crashcart
rc=0
PATH="$T/bin" "$BB" udhcpc -i eth0 -s "$HOOKW" -t 5 -T 1 -A 1 -n -q -x hostname:crashcart-mk -V crashcart-microkernel \\
  -O tftp -O bootfile >"$OUT/stderr" 2>&1 || rc=$?
echo "$rc" >"$OUT/rc"
if [ -n "$SUP" ]; then
  PATH="$T/bin" "$BB" sh "$SUP" >"$OUT/supervisor.log" 2>&1 &
  i=0
  while [ ! -e "$OUT/node-args" ] && [ "$i" -lt 300 ]; do "$BB" sleep 0.1; i=$((i + 1)); done
fi
"$BB" cp -r /run/crashcart "$OUT/run"
"$BB" cat /etc/resolv.conf >"$OUT/resolv.conf" 2>/dev/null || :
"$BB" ip -4 -o addr show dev eth0 >"$OUT/addr"
"$BB" ip -4 route >"$OUT/route"
`;

/** Run udhcpc with hook script `hookw` in namespace `ns`; with `supervisor`, start the agent supervisor after. */
export function runUdhcpc(ns: string, t: string, out: string, hookw: string, supervisor = ''): HookRun {
  execFileSync(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'unshare',
      '--mount',
      '--pid',
      '--fork',
      '--mount-proc',
      '/bin/sh',
      '-c',
      UDHCPC,
      'sandbox',
      t,
      out,
      hookw,
      supervisor,
    ],
    {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    },
  );
  return readSnapshot(out);
}
