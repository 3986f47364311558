/**
 * The shipped systemd unit (issue 10 §5): instead of `setcap` on the system
 * node, one service gets CAP_NET_BIND_SERVICE and CAP_NET_RAW as ambient
 * capabilities, as its own user. Checked three ways: `systemd-analyze verify`
 * (Debian package systemd), the settings that matter, and a real start as an
 * unprivileged user holding exactly the unit's capabilities (setpriv, in a
 * namespace), next to the same start without them.
 */
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Lab } from '../support/netns-lab.ts';
import { spawnAppliance, standInMicrokernel, tmpDir } from '../support/appliance.ts';
import { ERRORS } from '../../server/errors/catalog.ts';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

const UNIT = path.join(REPO_ROOT, 'resources', 'systemd', 'crashcart.service');
const SYSUSERS = path.join(REPO_ROOT, 'resources', 'systemd', 'crashcart.sysusers');

/** `[Service]` key=value pairs (systemd.syntax(7): later assignments of a list key append). */
async function serviceSection(): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  let section = '';
  for (const line of (await fs.readFile(UNIT, 'utf8')).split('\n')) {
    const s = /^\[(\w+)\]$/.exec(line.trim());
    if (s) section = s[1]!;
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv && section === 'Service') m.set(kv[1]!, m.has(kv[1]!) ? `${m.get(kv[1]!)} ${kv[2]}` : kv[2]!);
  }
  return m;
}

describe('resources/systemd/crashcart.service', () => {
  it('passes systemd-analyze verify with no warning', async () => {
    // verify checks that ExecStart's binary exists; where node is not /usr/bin/node, verify a copy naming this node.
    let unit = UNIT;
    if (!existsSync('/usr/bin/node')) {
      const d = await tmpDir('cc-unit-');
      unit = path.join(d, 'crashcart.service');
      await fs.writeFile(unit, (await fs.readFile(UNIT, 'utf8')).replace('/usr/bin/node', process.execPath));
    }
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr, error: r.error?.message }).toEqual({ status: 0, stderr: '', error: undefined });
  });

  it('grants exactly the two capabilities, to its own user, and keeps its data where serve writes it', async () => {
    const s = await serviceSection();
    expect(s.get('AmbientCapabilities')).toBe('CAP_NET_BIND_SERVICE CAP_NET_RAW');
    expect(s.get('CapabilityBoundingSet')).toBe('CAP_NET_BIND_SERVICE CAP_NET_RAW');
    expect(s.get('NoNewPrivileges')).toBe('yes');
    // The two lowest real-time priorities and no other (main and sync threads on one CPU: server/system/background-threads.ts).
    expect(s.get('LimitRTPRIO')).toBe('2');
    expect(s.get('User')).toBe('crashcart');
    expect(s.get('StateDirectory')).toBe('crashcart');
    expect(s.get('RuntimeDirectory')).toBe('crashcart');
    expect(s.get('ExecStart')).toMatch(/ serve --data-dir \/var\/lib\/crashcart /);
    expect(await fs.readFile(SYSUSERS, 'utf8')).toMatch(/^u crashcart - ".+" \/var\/lib\/crashcart /m);
  });

  it('is what the port error and the docs point to, instead of setcap on the system node', async () => {
    expect(ERRORS.CC_ERR_PORT_DENIED.fix).toContain('resources/systemd/crashcart.service');
    for (const f of ['README.md', 'docs/privileges.md']) {
      const text = await fs.readFile(path.join(REPO_ROOT, f), 'utf8');
      expect(text, f).toContain('resources/systemd/crashcart.service');
      expect(text, f).not.toMatch(/setcap [^\n]*\$\(which node\)/);
    }
  });
});

describe('the unit capability set, for real', () => {
  const lab = new Lab('sec', 'caps');
  afterAll(() => lab.cleanup());

  it('lets an unprivileged user serve proxyDHCP and TFTP with exactly those capabilities, and not without', async () => {
    lab.addNs('srv');
    lab.plug('srv', 'eth0', '10.78.0.1/24', { peerNs: 'srv', peerIf: 'eth1' });
    const caps = (await serviceSection())
      .get('AmbientCapabilities')!
      .split(' ')
      .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)
      .join(',');
    const asNobody = (ambient: boolean) => [
      'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--no-new-privs',
      ...(ambient ? [`--inh-caps=${caps}`, `--ambient-caps=${caps}`, `--bounding-set=-all,${caps}`] : ['--inh-caps=-all', '--bounding-set=-all']),
    ]; // prettier-ignore
    const flags = ['--iface', 'eth0', '--dhcp', 'proxy', '--log-level', 'warn'];
    const dataDir = async () => {
      const d = await tmpDir('cc-caps-');
      flags.push('--microkernel', await standInMicrokernel(d)); // serve refuses proxy mode without one (issue 12)
      await fs.chown(d, 65534, 65534);
      return d;
    };
    const a = await spawnAppliance(flags, { dataDir: await dataDir(), netns: lab.ns('srv'), wrap: asNobody(true) });
    try {
      const ss = lab.exec('srv', 'ss', ['-lunp']);
      for (const port of [':67 ', ':4011 ', ':69 ']) expect(ss).toContain(port);
      expect(lab.exec('srv', 'ps', ['-o', 'user=', '-p', String(a.child.pid)]).trim()).toMatch(/^(nobody|65534)$/);
    } finally {
      await a.stop();
    }
    const denied = spawnAppliance(flags, { dataDir: await dataDir(), netns: lab.ns('srv'), wrap: asNobody(false) });
    await expect(denied).rejects.toThrow(/CC_ERR_PORT_DENIED[\s\S]*resources\/systemd\/crashcart\.service/);
  });
});
