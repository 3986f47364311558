// Issue 10 §3: a rogue DHCP server must not get root in the microkernel. The hook
// (build/microkernel/rootfs/udhcpc.script) runs under the microkernel's own busybox in mount+net+pid
// namespaces with a private /run and /etc. Hostile values (quotes, $(...), backticks, ';', newlines, terminal
// escapes, 20 kB strings; NULs inside a real DHCP packet) must run nothing: every payload would `touch` a
// canary file in the test's temp dir, and none may exist. Good values must still configure the NIC.
// A real udhcpc then takes a hostile OFFER/ACK from a rogue server in a second namespace, and the agent
// supervisor starts after it; a deliberately vulnerable hook on the same packets proves the payloads live.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseServer } from '../../agent/locate.ts';
import {
  canaries,
  HOOK,
  LEASE_KEYS,
  leaseMap,
  makeBin,
  microkernelBusybox,
  ROOT,
  runHook,
  runUdhcpc,
  SAFE_LEASE_LINE,
  script,
  SUPERVISOR,
  type HookRun,
} from './microkernel-sandbox.ts';

// A short temp path: payloads must fit the 64-byte sname field.
const T = mkdtempSync('/tmp/cc-mksec-');
let bb = '';
let outN = 0;
const out = (): string => path.join(T, `out-${outN++}`);

beforeAll(() => {
  const b = microkernelBusybox();
  console.log(`[microkernel-dhcp-hook] busybox: ${b.from}`);
  bb = makeBin(T, b.file);
});
afterAll(() => rmSync(T, { recursive: true, force: true }));

/** What a DHCP server may put in a string, each payload aimed at a canary named after `tag`. */
function payloads(tag: string): string[] {
  const c = (n: number): string => `${T}/p-${tag}-${n}`;
  return [
    `x';touch ${c(1)};'`,
    `$(touch ${c(2)})`,
    `\`touch ${c(3)}\``,
    `a;touch ${c(4)}`,
    `x"; touch ${c(5)}; "`,
    `x\ntouch ${c(6)}\n`,
    `x'\ntouch ${c(7)}\n'`,
    `10.77.0.1|touch ${c(8)}`,
    `10.77.0.1 && touch ${c(9)}`,
    `10.77.0.1\nsiaddr=6.6.6.6\nserverid=6.6.6.6`,
    `-batch /etc/shadow`,
    '*',
    `\u001b]0;pwned\u0007\u001b[2J${'\u00e9'.repeat(4)}`,
    'A'.repeat(20_000),
    '010.077.000.050',
    '256.1.1.1',
  ];
}

const GOOD: Record<string, string> = {
  interface: 'eth0',
  ip: '10.77.0.50',
  mask: '24',
  broadcast: '10.77.0.255',
  router: '10.77.0.1',
  dns: '10.77.0.1 10.77.0.2',
  domain: 'rack.example',
  hostname: 'node-1',
  serverid: '10.77.0.1',
  siaddr: '10.77.0.1',
  boot_file: 'http://10.77.0.1:8026/boot.ipxe?mac=52-54-00-00-00-01&x=1#y',
  bootfile: 'undionly.kpxe',
  tftp: '10.77.0.1',
  lease: '3600',
};
const envOf = (o: Record<string, string>): string[] => Object.entries(o).map(([k, v]) => `${k}=${v}`);

/** The lease file's lines are the known keys, in order, each value in the safe character set. */
function expectSafeLease(text: string | undefined, what: string): Map<string, string> {
  expect(text, what).toBeDefined();
  const lines = text!.replace(/\n$/, '').split('\n');
  expect(
    lines.map((l) => l.slice(0, l.indexOf('='))),
    what,
  ).toEqual(LEASE_KEYS);
  for (const l of lines) expect(l, what).toMatch(SAFE_LEASE_LINE);
  return leaseMap(text!);
}

/** Nothing the hook says may carry payload bytes (names and sizes only). */
function expectQuietLog(r: HookRun, what: string): void {
  expect(r.stderr, what).not.toMatch(/touch|6\.6\.6\.6|pwned/);
  expect(r.stderr.includes(String.fromCharCode(27)), `${what}: ESC in the log`).toBe(false);
}

describe('the hook with values straight from udhcpc (sandbox: unshare --mount --net --pid)', () => {
  it('positive control: good values configure the NIC, resolv.conf and the lease files', () => {
    const r = runHook(T, out(), ['bound'], envOf(GOOD));
    expect(r.rc).toBe(0);
    expect(r.stderr).toBe('');
    const lease = expectSafeLease(r.run.get('lease'), 'good');
    expect(Object.fromEntries(lease)).toEqual({ ...GOOD, bootfile: undefined, boot_file: GOOD['boot_file'] });
    expect(r.run.get('lease.eth0')).toBe(r.run.get('lease'));
    expect(r.addr).toContain('inet 10.77.0.50/24 brd 10.77.0.255');
    expect(r.route).toMatch(/^default via 10\.77\.0\.1 dev eth0/m);
    expect(r.resolv).toBe('search rack.example\nnameserver 10.77.0.1\nnameserver 10.77.0.2\n');
    // The agent reads this file as text and finds the appliance in it.
    expect(leaseServer(r.run.get('lease')!)).toBe('10.77.0.1');
    expect(canaries(T)).toEqual([]);
  });

  it('deconfig after bound removes the address and the lease files of that NIC', () => {
    const r = runHook(T, out(), ['bound', 'deconfig'], envOf(GOOD));
    expect(r.rc).toBe(0);
    expect([...r.run.keys()]).toEqual([]);
    expect(r.addr.trim()).toBe('');
  });

  it('a renewal of the same address keeps it; a renewal with another address replaces it', () => {
    const r = runHook(T, out(), ['bound', 'renew', 'renew+ip=10.77.0.60'], envOf(GOOD));
    expect(r.rc).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.addr).toContain('inet 10.77.0.60/24 brd 10.77.0.255');
    expect(r.addr).not.toContain('10.77.0.50');
    expect(leaseMap(r.run.get('lease')!).get('ip')).toBe('10.77.0.60');
    expect(r.run.get('lease.eth0')).toBe(r.run.get('lease'));
    expect(r.route).toMatch(/^default via 10\.77\.0\.1 dev eth0/m);
    // The same address again is left alone: no `ip` at all, only the two lease files renamed into place.
    expect(r.processes[1]).toBe(2);
  });

  it('starts few processes: a fork costs tens of milliseconds on an emulated CPU, on the boot path', () => {
    // deconfig of a fresh NIC (`ip link set up`), the first lease (flush, add, route, three renames), a renewal
    // of the same address (two renames), deconfig after it (flush, rm twice, link up).
    const r = runHook(T, out(), ['deconfig', 'bound', 'renew', 'deconfig'], envOf(GOOD));
    expect(r.rc).toBe(0);
    expect(r.processes).toEqual([1, 6, 2, 4]);
  });

  it('every other value hostile: nothing runs, each is dropped (logged by name), the NIC is still configured', () => {
    const keys = Object.keys(GOOD).filter((k) => k !== 'ip' && k !== 'interface');
    const list = payloads('x');
    for (let i = 0; i < list.length; i++) {
      const env = { ...GOOD };
      for (const k of keys) env[k] = payloads(k)[i]!;
      const r = runHook(T, out(), ['bound'], envOf(env));
      const what = `payload ${i}: ${JSON.stringify(list[i]!.slice(0, 40))}`;
      expect(r.rc, what).toBe(0);
      const lease = expectSafeLease(r.run.get('lease'), what);
      expect(lease.get('ip'), what).toBe('10.77.0.50');
      expect(lease.get('interface'), what).toBe('eth0');
      expect(r.run.get('lease'), what).not.toContain('6.6.6.6');
      // A value is kept only when it is exactly a valid one (the octal-looking name is a valid DNS label set);
      // a list keeps its valid addresses; a dropped prefix falls back to /24.
      for (const k of keys) {
        const v = k === 'bootfile' ? undefined : lease.get(k);
        if (k === 'mask') expect(v, what).toBe('24');
        else if (k === 'router' || k === 'dns')
          expect(v, `${what} ${k}`).toMatch(/^((^| )(1?\d?\d|2[0-4]\d|25[0-5])(\.(1?\d?\d|2[0-4]\d|25[0-5])){3})*$/);
        else if (v) expect(v, `${what} ${k}`).toBe(env[k]);
      }
      expect(r.addr, what).toContain('inet 10.77.0.50/');
      expect(r.stderr, what).toMatch(/dropped router/);
      expectQuietLog(r, what);
      expect(canaries(T), what).toEqual([]);
    }
  });

  it('a hostile address or interface name: nothing runs and nothing is configured', () => {
    for (const [k, list] of [
      ['ip', payloads('ip')],
      ['interface', payloads('if').slice(0, 8)],
    ] as const) {
      for (const p of list) {
        const r = runHook(T, out(), ['bound'], envOf({ ...GOOD, [k]: p }));
        const what = `${k}=${JSON.stringify(p.slice(0, 40))}`;
        expect(r.rc, what).toBe(1);
        expect([...r.run.keys()], what).toEqual([]);
        expect(r.addr.trim(), what).toBe('');
        expect(r.stderr, what).toMatch(new RegExp(`dropped ${k} \\(\\d+ bytes\\)`));
        expectQuietLog(r, what);
      }
    }
    expect(canaries(T)).toEqual([]);
  });

  it('no rootfs script sources, evals or interpolates a file from /run', () => {
    for (const f of ['init', 'udhcpc.script', 'supervise-agent', 'debug.sh']) {
      const text = readFileSync(path.join(ROOT, 'build/microkernel/rootfs', f), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*#/.test(l))
        .join('\n');
      // `. FILE` / `source FILE` at a command position (a path or a variable follows).
      expect(text, f).not.toMatch(/(^\s*|[;&|]\s*|\b(then|do|else)\s+)(\.|source)\s+["']?[/$~]/m);
      expect(text, f).not.toMatch(/\beval\b/);
    }
  });
});

describe('a real udhcpc against a rogue DHCP server (namespaces cabled by a veth pair)', () => {
  const srvNs = `cc-mksec-${process.pid}-0`;
  const cliNs = `cc-mksec-${process.pid}-1`;
  let rogue: ChildProcess | undefined;
  const hex = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

  beforeAll(async () => {
    const ip = (...a: string[]): void => void execFileSync('ip', a, { stdio: ['ignore', 'ignore', 'pipe'] });
    ip('netns', 'add', srvNs);
    ip('netns', 'add', cliNs);
    ip('-n', srvNs, 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', cliNs);
    ip('-n', srvNs, 'addr', 'add', '10.77.0.1/24', 'dev', 'srv0');
    ip('-n', srvNs, 'link', 'set', 'srv0', 'up');
    ip('-n', srvNs, 'link', 'set', 'lo', 'up');
    // The OFFER/ACK go to 255.255.255.255: that needs a route in the server's namespace.
    ip('-n', srvNs, 'route', 'add', 'default', 'dev', 'srv0');
    const cfg = {
      yiaddr: '10.77.0.50',
      server: '10.77.0.1',
      mask: '255.255.255.0',
      broadcast: '10.77.0.255',
      lease_s: 3600,
      // The payload in the BOOTP file field; $(...) in sname; option 67 with a NUL before its payload.
      file_hex: hex(`x';touch ${T}/p-file;'`),
      sname_hex: hex(`$(touch ${T}/p-sname)`),
      options_hex: {
        12: hex(`\`touch ${T}/p-host\``),
        15: hex(`a;touch ${T}/p-dom`),
        17: hex(`x';touch ${T}/p-root;'`),
        56: hex(`x'\ntouch ${T}/p-msg\n'`),
        66: hex(`$(touch ${T}/p-tftp)`),
        67: hex(`b\u0000';touch ${T}/p-nul;'`),
      },
    };
    rogue = spawn(
      'ip',
      ['netns', 'exec', srvNs, process.execPath, 'bin/run-ts.mjs', 'test/security/microkernel-rogue-dhcp.ts', JSON.stringify(cfg)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: rogue.stdout! });
    await new Promise<void>((resolve, reject) => {
      rogue!.once('exit', (c) => reject(new Error(`rogue DHCP server exited with ${c}`)));
      lines.on('line', (l) => {
        if (l.includes('"ready"')) resolve();
      });
    });
  });
  afterAll(() => {
    if (rogue?.pid) {
      try {
        process.kill(rogue.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of [srvNs, cliNs]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* not there */
      }
    }
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(left).not.toContain(`cc-mksec-${process.pid}-`);
  });

  it('the hook takes the lease: address, route and lease files are right, every payload was dropped, nothing ran', () => {
    const o = out();
    // A stub `node` for the supervisor: records how it was started and with which environment.
    script(path.join(T, 'bin/node'), `#!${bb} sh\necho "$*" >"${o}/node-args"\nenv >"${o}/node-env"\nexit 0\n`);
    const hookw = script(path.join(T, 'hook-real'), `#!${bb} sh\nexec ${bb} sh ${HOOK} "$@"\n`);
    const r = runUdhcpc(cliNs, T, o, hookw, SUPERVISOR);
    expect(r.rc, r.stderr).toBe(0);
    const lease = expectSafeLease(r.run.get('lease'), 'udhcpc');
    // udhcpc itself turns bad host names into "bad" (options 12, 15, 66); the hook dropped the file and sname
    // fields; option 67 was cut at its NUL by udhcpc, leaving the harmless "b".
    expect(Object.fromEntries(lease)).toEqual({
      interface: 'eth0',
      ip: '10.77.0.50',
      mask: '24',
      broadcast: '10.77.0.255',
      router: '10.77.0.1',
      dns: '10.77.0.1',
      domain: 'bad',
      hostname: 'bad',
      serverid: '10.77.0.1',
      siaddr: '10.77.0.1',
      boot_file: 'b',
      tftp: 'bad',
      lease: '3600',
    });
    expect(r.stderr).toMatch(/dropped boot_file \(\d+ bytes\)/);
    expectQuietLog(r, 'udhcpc');
    expect(r.addr).toContain('inet 10.77.0.50/24 brd 10.77.0.255');
    expect(r.route).toMatch(/^default via 10\.77\.0\.1 dev eth0/m);
    expect(r.resolv).toBe('search bad\nnameserver 10.77.0.1\n');
    // The supervisor started the agent the microkernel way, and handed it nothing from the lease.
    const args = readFileSync(path.join(o, 'node-args'), 'utf8').trim();
    expect(args).toBe(
      '--enable-experimental-regexp-engine /usr/lib/crashcart/agent-loader.cjs --lldp-wait 0 --wait-for /run/crashcart/network-ready --drivers-settled /run/crashcart/drivers-settled',
    );
    expect(readFileSync(path.join(o, 'node-env'), 'utf8')).not.toMatch(/CRASHCART_LEASE|touch|10\.77\./);
    expect(canaries(T)).toEqual([]);
  });

  it('control: the same packets through a hook that sources what it wrote (the old pattern) run the payloads', () => {
    const ctl = script(
      path.join(T, 'hook-control'),
      [
        `#!${bb} sh`,
        '# DHCP text written into shell code that is then sourced: what rootfs/udhcpc.script + supervise-agent did.',
        'case "$1" in bound)',
        `  { echo "BOOT_FILE='$boot_file'"; echo "SNAME=\\"$sname\\""; } >/run/crashcart/control.env`,
        '  . /run/crashcart/control.env ;;',
        'esac',
        '',
      ].join('\n'),
    );
    const r = runUdhcpc(cliNs, T, out(), ctl);
    expect(r.rc, r.stderr).toBe(0);
    expect(canaries(T).sort()).toEqual(['p-file', 'p-sname']);
    rmSync(path.join(T, 'p-file'));
    rmSync(path.join(T, 'p-sname'));
  });
});
