/**
 * A throw-away network lab for one test file: namespaces named
 * cc-dhcp-<pid>-<name>, a bridge in its own "switch" namespace, veth pairs.
 * Everything made here is removed by `cleanup()`, children killed by PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** One lab. */
export class Lab {
  readonly namespaces: string[] = [];
  readonly children: ChildProcess[] = [];
  private n = 0;

  constructor(readonly tag: string) {}

  /** Full namespace name for a short one. */
  ns(name: string): string {
    return `cc-dhcp-${process.pid}-${this.tag}-${name}`;
  }

  /** Run `ip` (or any command) and return stdout. */
  run(cmd: string, args: string[]): string {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Run a command inside a namespace. */
  exec(ns: string, cmd: string, args: string[]): string {
    return this.run('ip', ['netns', 'exec', this.ns(ns), cmd, ...args]);
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
   * (or, with `peerNs`, straight into another namespace as `peerIf`).
   */
  plug(
    ns: string,
    ifname: string,
    cidr: string | null,
    opts: { sw?: string; peerNs?: string; peerIf?: string; peerCidr?: string } = {},
  ): void {
    const tmpA = `ccd${process.pid % 100000}a${this.n}`;
    const tmpB = `ccd${process.pid % 100000}b${this.n++}`;
    this.run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
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

  /** Start a long-running process inside a namespace; killed by PID in cleanup. */
  spawnIn(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns(ns), cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.children.push(c);
    return c;
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
    for (const ns of this.namespaces.reverse()) {
      // Processes a namespace still holds (dhclient daemons) are killed by their PIDs, then the namespace goes.
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
}

/** Wait until `fn` returns a value (not undefined/false), polling; throws after `ms` with `what`. */
export async function waitFor<T>(what: string, ms: number, fn: () => T | Promise<T>): Promise<Exclude<T, false | undefined | null>> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false && v !== null) return v as Exclude<T, false | undefined | null>;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
