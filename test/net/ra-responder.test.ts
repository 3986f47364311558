/**
 * The RA responder answers a router solicitation at once with an RA that carries
 * no prefix, M=0, O=0 and router lifetime 0 (what ends iPXE's IPv6 wait), unicast
 * to the soliciting host; sends RAs to all nodes no more than one per 3 s; and
 * exits when the appliance closes its stdin. In namespaces the test creates.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createRaResponder } from '../../server/net/router-advert.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { consoleLogger } from '../../server/core/console-logger.ts';

const A = `cc-ra-${process.pid}-a`;
const B = `cc-ra-${process.pid}-b`;
const sh = (...a: string[]) => execFileSync(a[0]!, a.slice(1), { encoding: 'utf8' });

beforeAll(() => {
  sh('ip', 'netns', 'add', A);
  sh('ip', 'netns', 'add', B);
  sh('ip', 'link', 'add', 'ccra0', 'netns', A, 'type', 'veth', 'peer', 'name', 'ccra1', 'netns', B);
  sh('ip', '-n', A, 'link', 'set', 'ccra0', 'up');
  sh('ip', '-n', B, 'link', 'set', 'ccra1', 'up');
});
// Every process a test starts, killed by PID after it even when it failed before its own cleanup.
const started: ChildProcess[] = [];
const track = <T extends ChildProcess>(c: T): T => (started.push(c), c);
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  for (const n of [A, B]) execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore' });
});

/** Wait for the link-local address to leave the tentative (DAD) state. */
function waitLinkLocal(ns: string, dev: string): void {
  for (let i = 0; i < 50; i++) {
    const out = sh('ip', '-n', ns, '-6', 'addr', 'show', 'dev', dev);
    if (/fe80::/.test(out) && !/tentative/.test(out)) return;
    execFileSync('sleep', ['0.1']);
  }
  throw new Error(`no link-local address on ${dev}`);
}

/** A capture of every RA that reaches B (`extra`: tcpdump's options), given a second to start. */
async function captureRas(extra: string[]): Promise<{ cap: ChildProcess; text: () => string; ras: () => string[] }> {
  const cap = track(
    spawn('ip', ['netns', 'exec', B, 'tcpdump', '-l', '-n', ...extra, '-i', 'ccra1', 'icmp6 and ip6[40] == 134'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let text = '';
  cap.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((r) => setTimeout(r, 1000));
  return { cap, text: () => text, ras: () => text.split('\n').filter((l) => l.includes('router advertisement')) };
}

/** The responder as the plugin runs it (stdin a pipe it exits on), entered into namespace A; resolves on its ready line. */
async function startResponder(args: string[]): Promise<{ ra: ChildProcess; ready: string }> {
  const ra = track(
    spawn('ip', ['netns', 'exec', A, 'python3', path.join(REPO_ROOT, 'resources', 'ra', 'ra-responder.py'), 'ccra0', ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const ready = await new Promise<string>((resolve) => ra.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
  return { ra, ready };
}

/**
 * `count` router solicitations from B's raw ICMPv6 socket (the kernel fills in the checksum): hop limit `hops`, from
 * `source` (else B's own link-local address), with a source link-layer address option naming `slla` when given.
 */
function solicitFromB(o: { hops?: number; source?: string; slla?: string; count?: number } = {}): void {
  const script = [
    'import socket,struct',
    's=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6)',
    `s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_HOPS,${o.hops ?? 255})`,
    "i=socket.if_nametoindex('ccra1')",
    o.source ? `s.bind(('${o.source}',0,0,i))` : '',
    `m=struct.pack('!BBHI',133,0,0,0)${o.slla ? `+bytes([1,1])+bytes.fromhex('${o.slla.replace(/:/g, '')}')` : ''}`,
    `[s.sendto(m,('ff02::2',0,0,i)) for _ in range(${o.count ?? 1})]`,
  ];
  sh('ip', 'netns', 'exec', B, 'python3', '-c', script.join('\n'));
}

/** Poll (up to 10 s) until `done`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Close the responder's stdin (how the appliance stops it); its exit code. */
async function stopResponder(ra: ChildProcess): Promise<number | null> {
  const exited = new Promise((r) => ra.once('exit', r));
  ra.stdin!.end();
  await exited;
  return ra.exitCode;
}

describe('IPv6 RA responder', () => {
  it('answers a router solicitation with an empty, zero-lifetime RA, unicast to the soliciting host', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const bLinkLocal = /inet6 (fe80::[0-9a-f:]+)/.exec(sh('ip', '-n', B, '-6', 'addr', 'show', 'dev', 'ccra1'))![1]!;
    // A capture in B that ends after two RAs (the first unsolicited one, then the answer to our RS).
    const { cap, text, ras: seen } = await captureRas(['-v', '-c', '2']);
    const { ra } = await startResponder(['60']);
    // Solicit from B. The capture is cut off long before the 60 s interval comes round, so a second RA in it is the
    // answer to this RS (no clock is read: a slow machine only makes the cut-off generous).
    sh(
      'ip',
      'netns',
      'exec',
      B,
      'python3',
      '-c',
      "import socket,struct;s=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6);s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_HOPS,255);s.sendto(struct.pack('!BBHI',133,0,0,0),('ff02::2',0,0,socket.if_nametoindex('ccra1')))",
    );
    const code = await new Promise<number | null>((resolve) => {
      cap.once('exit', resolve);
      setTimeout(() => cap.kill(), 15000);
    });
    expect(code).toBe(0);
    const ras = seen();
    expect(ras).toHaveLength(2);
    // The unsolicited one to all nodes, the answer to B alone.
    expect(ras[0]).toMatch(/> ff02::1: (\[icmp6 sum ok\] )?ICMP6, router advertisement/);
    expect(ras[1]).toMatch(new RegExp(`> ${bLinkLocal}: (\\[icmp6 sum ok\\] )?ICMP6, router advertisement`));
    expect(text()).toMatch(/hop limit 64, Flags \[none\], pref medium, router lifetime 0s/);
    expect(text()).not.toMatch(/prefix info/);
    // Closing stdin ends the responder (how the appliance stops it).
    expect(await stopResponder(ra)).toBe(0);
  });

  it('full mode: a solicitation from "::" gets the RA to all nodes, and those go out at most one per 3 s however many come', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const bMac = sh('ip', '-n', B, '-br', 'link', 'show', 'ccra1').split(/\s+/)[2]!;
    // Every RA that reaches B, with the capture's clock (epoch seconds) and its destination.
    const { cap, ras } = await captureRas(['-tt']);
    const { ra } = await startResponder(['60']);
    // Ten solicitations from the unspecified address (a host still in DAD; no source link-layer option, RFC 4861 4.1),
    // built whole on a packet socket: the kernel would give a raw ICMPv6 socket's packet B's link-local source.
    const fromUnspecified = [
      'import socket,struct,sys',
      `mac=bytes.fromhex('${bMac.replace(/:/g, '')}')`,
      "src=bytes(16);dst=socket.inet_pton(socket.AF_INET6,'ff02::2')",
      'icmp=struct.pack("!BBHI",133,0,0,0)',
      'ps=src+dst+struct.pack("!I",len(icmp))+bytes(3)+bytes([58])+icmp',
      'c=sum(struct.unpack("!%dH"%(len(ps)//2),ps));c=(c&0xffff)+(c>>16);c=(c&0xffff)+(c>>16);c=~c&0xffff',
      'icmp=icmp[:2]+struct.pack("!H",c)+icmp[4:]',
      'ip6=struct.pack("!IHBB",6<<28,len(icmp),58,255)+src+dst',
      "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW);s.bind(('ccra1',0))",
      "[s.send(bytes.fromhex('333300000002')+mac+b'\\x86\\xdd'+ip6+icmp) for _ in range(10)]",
    ].join('\n');
    sh('ip', 'netns', 'exec', B, 'python3', '-c', fromUnspecified);
    for (let i = 0; i < 100 && ras().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    // Then ten more, while the first answer's 3 s are still running.
    sh('ip', 'netns', 'exec', B, 'python3', '-c', fromUnspecified);
    await new Promise((r) => setTimeout(r, 4500));
    cap.kill();
    expect(await stopResponder(ra)).toBe(0);
    // All to all nodes (nothing else can reach a host with no address yet), the first unsolicited, then answers;
    // twenty solicitations made at most one RA per 3 s.
    expect(ras().length).toBeGreaterThanOrEqual(2);
    for (const l of ras()) expect(l).toMatch(/> ff02::1: ICMP6, router advertisement/);
    const at = ras().map((l) => Number(l.split(' ')[0]));
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThan(2.9);
  });

  it('proxy mode: nothing unsolicited or multicast; only an allowed MAC gets the RA, unicast to its link-local address', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const bMac = sh('ip', '-n', B, '-br', 'link', 'show', 'ccra1').split(/\s+/)[2]!.toLowerCase();
    const bLinkLocal = /inet6 (fe80::[0-9a-f:]+)/.exec(sh('ip', '-n', B, '-6', 'addr', 'show', 'dev', 'ccra1'))![1]!;
    // Every RA that reaches B, with its destination.
    const { cap, text, ras } = await captureRas([]);
    // Interval 1 s: in solicited-only mode it must still send nothing on its own.
    const { ra, ready } = await startResponder(['1', '--solicited-only']);
    expect(ready).toMatch(/^ready ccra0 \d+ solicited-only/);
    /** A router solicitation from B with a source link-layer address option (RFC 4861 4.1). */
    const solicit = (mac: string) =>
      sh('ip', 'netns', 'exec', B, 'python3', '-c',
        `import socket,struct;s=socket.socket(socket.AF_INET6,socket.SOCK_RAW,socket.IPPROTO_ICMPV6);s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_MULTICAST_HOPS,255);s.sendto(struct.pack('!BBHI',133,0,0,0)+bytes([1,1])+bytes.fromhex('${mac.replace(/:/g, '')}'),('ff02::2',0,0,socket.if_nametoindex('ccra1')))`); // prettier-ignore
    // A machine nobody is booting, then B before the appliance has answered it: no RA at all.
    solicit('02:00:00:00:00:99');
    solicit(bMac);
    await new Promise((r) => setTimeout(r, 3000));
    expect(ras()).toEqual([]);
    // proxyDHCP answers B: its pending solicitation is answered at once, unicast.
    ra.stdin!.write(`allow ${bMac}\n`);
    for (let i = 0; i < 50 && ras().length < 1; i++) await new Promise((r) => setTimeout(r, 100));
    // A host is answered at most once per 3 s (MIN_DELAY_BETWEEN_RAS): its next solicitation after that, at once.
    await new Promise((r) => setTimeout(r, 3100));
    solicit(bMac);
    for (let i = 0; i < 50 && ras().length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    solicit('02:00:00:00:00:99');
    await new Promise((r) => setTimeout(r, 2000));
    cap.kill();
    expect(ras()).toHaveLength(2);
    for (const l of ras()) expect(l).toMatch(new RegExp(`> ${bLinkLocal}: ICMP6, router advertisement`));
    expect(text()).not.toMatch(/ff02::1: ICMP6, router advertisement/);
    expect(await stopResponder(ra)).toBe(0);
  });

  it('RFC 4861 6.1.1: a solicitation that did not come with hop limit 255 is not answered', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const { cap, ras } = await captureRas([]);
    const unicast = () => ras().filter((l) => !l.includes('> ff02::1:'));
    const { ra } = await startResponder(['60']);
    await until(() => ras().length >= 1); // the first RA to all nodes, at start
    // Hop limit 64: it may have crossed a router, so it is not from this link.
    solicitFromB({ hops: 64 });
    await new Promise((r) => setTimeout(r, 2000));
    expect(unicast()).toEqual([]);
    solicitFromB();
    await until(() => unicast().length >= 1);
    cap.kill();
    expect(unicast()).toHaveLength(1);
    expect(await stopResponder(ra)).toBe(0);
  });

  it('answers one host at most once per 3 s, however often it solicits', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const { cap, ras } = await captureRas([]);
    const unicast = () => ras().filter((l) => !l.includes('> ff02::1:'));
    const { ra } = await startResponder(['60']);
    await until(() => ras().length >= 1);
    solicitFromB({ count: 5 });
    await until(() => unicast().length >= 1);
    await new Promise((r) => setTimeout(r, 1500));
    cap.kill();
    expect(unicast()).toHaveLength(1);
    expect(await stopResponder(ra)).toBe(0);
  });

  it('answers only the link-local address the frame’s MAC makes: a solicitation naming another source gets nothing', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    // Another host's address (here held by B too, so that an RA sent to it would show on B's capture).
    const other = 'fe80::1234';
    sh('ip', '-n', B, 'addr', 'add', `${other}/64`, 'dev', 'ccra1', 'nodad');
    try {
      const { cap, ras } = await captureRas([]);
      const { ra } = await startResponder(['60']);
      await until(() => ras().length >= 1);
      solicitFromB({ source: other });
      await new Promise((r) => setTimeout(r, 2500));
      cap.kill();
      expect(ras().filter((l) => !l.includes('> ff02::1:'))).toEqual([]);
      expect(await stopResponder(ra)).toBe(0);
    } finally {
      sh('ip', '-n', B, 'addr', 'del', `${other}/64`, 'dev', 'ccra1');
    }
  });

  it('proxy mode: the allow list is matched against the frame’s source MAC, not the MAC a solicitation names', async () => {
    waitLinkLocal(A, 'ccra0');
    waitLinkLocal(B, 'ccra1');
    const { cap, ras } = await captureRas([]);
    const { ra } = await startResponder(['1', '--solicited-only']);
    const booted = '02:00:00:00:00:77';
    ra.stdin!.write(`allow ${booted}\n`);
    // B is not being booted; its solicitation names a machine that is.
    solicitFromB({ slla: booted });
    await new Promise((r) => setTimeout(r, 2500));
    cap.kill();
    expect(ras()).toEqual([]);
    expect(await stopResponder(ra)).toBe(0);
  });

  it('the plugin reports a missing responder as an event with the fix, without failing the appliance', async () => {
    const emitted: string[] = [];
    const p = createRaResponder({
      iface: 'no-such-nic9',
      resourcesDir: path.join(REPO_ROOT, 'resources'),
      events: { emit: (_t, e) => (emitted.push(e.message), {} as never) },
      log: consoleLogger('silent'),
    });
    await p.start();
    expect(emitted.join('\n')).toMatch(/ipv6-ra: .*Fix: install python3/);
    await p.stop();
  });
});
