/**
 * The test kit's one namespace lab: a throw-away network for one test file. Namespaces are named
 * cc-<area>-<pid>-<tag>-<name>, so helpers running tests at once never collide; a lab holds a bridge in its own
 * "switch" namespace with veth pairs to the others, or a bridge that carries the appliance's own address with
 * tap devices for QEMU guests. Nothing is made in the host's namespace; `cleanup()` removes everything, killing
 * children and whatever a namespace still holds by PID.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** A namespace whose bridge carries the appliance's address, with tap devices for QEMU NICs. */
export interface BridgedNet {
  ns: string;
  bridge: string;
  /** Appliance address on the bridge. */
  address: string;
  prefix: number;
  taps: string[];
}

/** One lab. */
export class Lab {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];
  private n = 0;

  /** `area` names the suite (dhcp, e2e, store ...), `tag` the file or case within it. */
  constructor(
    readonly area: string,
    readonly tag: string,
  ) {}

  /** Full namespace name for a short one. */
  ns(name: string): string {
    return `cc-${this.area}-${process.pid}-${this.tag}-${name}`;
  }

  /** Run `ip` (or any command) and return stdout; a failure throws with its stderr and the fix. */
  run(cmd: string, args: string[]): string {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(
        `${cmd} ${args.join(' ')} failed: ${err.stderr || err.message}\n  fix: run network tests as root on Linux with iproute2 (apt-get install iproute2)`,
      );
    }
  }

  /** Run a command inside a namespace. */
  exec(ns: string, cmd: string, args: string[]): string {
    return this.run('ip', ['netns', 'exec', this.ns(ns), cmd, ...args]);
  }

  /** Run a client inside a namespace without blocking the loop (the server under test may be in this process); never throws. */
  execAsync(ns: string, cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.ns(ns), cmd, ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}${stderr}` }),
      );
    });
  }

  /** Create a namespace (with lo up). */
  addNs(name: string): void {
    this.run('ip', ['netns', 'add', this.ns(name)]);
    this.namespaces.push(this.ns(name));
    this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
  }

  /** Create the switch namespace with bridge br0. */
  addSwitch(name = 'sw'): void {
    this.addNs(name);
    this.exec(name, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    // No STP/forward delay: ports forward at once.
    this.exec(name, 'ip', ['link', 'set', 'br0', 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    this.exec(name, 'ip', ['link', 'set', 'br0', 'up']);
  }

  /**
   * A veth from `ns` (named `ifname`, optional address) to the bridge in `sw`
   * (or, with `peerNs`, straight into another namespace as `peerIf`); `mtu` for both ends (default the kernel's 1500).
   */
  plug(
    ns: string,
    ifname: string,
    cidr: string | null,
    opts: { sw?: string; peerNs?: string; peerIf?: string; peerCidr?: string; mtu?: number } = {},
  ): void {
    const tmpA = `ccd${process.pid % 100000}a${this.n}`;
    const tmpB = `ccd${process.pid % 100000}b${this.n++}`;
    const mtu = opts.mtu ? ['mtu', String(opts.mtu)] : [];
    this.run('ip', ['link', 'add', tmpA, ...mtu, 'type', 'veth', 'peer', 'name', tmpB, ...mtu]);
    this.run('ip', ['link', 'set', tmpA, 'netns', this.ns(ns)]);
    this.exec(ns, 'ip', ['link', 'set', tmpA, 'name', ifname]);
    if (cidr) this.exec(ns, 'ip', ['addr', 'add', cidr, 'dev', ifname]);
    this.exec(ns, 'ip', ['link', 'set', ifname, 'up']);
    const other = opts.peerNs ?? opts.sw ?? 'sw';
    this.run('ip', ['link', 'set', tmpB, 'netns', this.ns(other)]);
    const peerName = opts.peerIf ?? tmpB;
    if (opts.peerIf) this.exec(other, 'ip', ['link', 'set', tmpB, 'name', peerName]);
    if (!opts.peerNs) this.exec(other, 'ip', ['link', 'set', peerName, 'master', 'br0']);
    if (opts.peerCidr) this.exec(other, 'ip', ['addr', 'add', opts.peerCidr, 'dev', peerName]);
    this.exec(other, 'ip', ['link', 'set', peerName, 'up']);
  }

  /**
   * Namespace `name` whose bridge `br0` carries `address/prefix`: the appliance's NIC on a private segment
   * for QEMU guests (add their NICs with `addTap`).
   */
  bridgedNet(name: string, address: string, prefix: number): BridgedNet {
    this.addNs(name);
    const ns = this.ns(name);
    const net: BridgedNet = { ns, bridge: 'br0', address, prefix, taps: [] };
    // forward_delay 0: the guests' first DHCP packets must not fall into the STP listening window.
    this.run('ip', ['-n', ns, 'link', 'add', net.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    this.run('ip', ['-n', ns, 'addr', 'add', `${address}/${prefix}`, 'dev', net.bridge]);
    this.run('ip', ['-n', ns, 'link', 'set', net.bridge, 'up']);
    // A bridge whose only ports are taps nobody has opened yet has no carrier, and a NIC without carrier is
    // invisible to os.networkInterfaces() (libuv lists only UP+RUNNING ones), so `crashcart serve --iface br0`
    // would not find it. A veth pair with one end on the bridge is the cable that is already plugged in.
    this.run('ip', ['-n', ns, 'link', 'add', 'cable0', 'type', 'veth', 'peer', 'name', 'cable1']);
    this.run('ip', ['-n', ns, 'link', 'set', 'cable0', 'master', net.bridge, 'up']);
    // The free end must not answer ARP for the appliance's address (Linux answers on any interface by
    // default): UEFI firmware that learns cable1's MAC sends its TFTP ACKs there, where the NIC-pinned
    // sockets rightly never see them.
    this.run('ip', ['-n', ns, 'link', 'set', 'cable1', 'arp', 'off', 'up']);
    return net;
  }

  /** Add a tap device enslaved to the net's bridge; QEMU opens it by name inside the namespace. */
  addTap(net: BridgedNet): string {
    const name = `tap${net.taps.length}`;
    this.run('ip', ['-n', net.ns, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
    this.run('ip', ['-n', net.ns, 'link', 'set', name, 'master', net.bridge, 'up']);
    net.taps.push(name);
    return name;
  }

  /** Namespaces of this lab still present (afterAll checks its own cleanup with it). */
  leftovers(): string[] {
    const present = new Set(
      this.run('ip', ['netns', 'list'])
        .split('\n')
        .map((l) => l.split(' ')[0]),
    );
    return this.namespaces.filter((n) => present.has(n));
  }

  /** Start a long-running process inside a namespace; killed by PID in cleanup. */
  spawnIn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns(ns), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.children.push(c);
    return c;
  }

  /** Remove one namespace of the lab now (what runs in it is killed by PID; its interfaces go with it). */
  removeNs(name: string): void {
    const ns = this.ns(name);
    Lab.killAndDelete(ns);
    const i = this.namespaces.indexOf(ns);
    if (i >= 0) this.namespaces.splice(i, 1);
  }

  /** Kill children (by PID), delete namespaces (their veths and bridges go with them). */
  async cleanup(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const ns of [...this.namespaces].reverse()) Lab.killAndDelete(ns);
  }

  /** Processes a namespace still holds (dhclient daemons) are killed by their PIDs, then the namespace goes. */
  private static killAndDelete(ns: string): void {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* already removed */
    }
  }
}
