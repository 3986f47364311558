/**
 * In-band BMC enrolment against a real BMC: OpenIPMI's ipmi_sim. The agent's enrolment sends the IPMI commands
 * it sends over KCS in the microkernel; here they travel over RMCP+ with the BMC's admin user (the e2e test
 * drives the KCS path in QEMU). The guest is never powered on, so no QEMU runs.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { EnrolError, enrolBmc } from '../../agent/bmc/enrol-bmc.ts';
import { enrolOutcome, inbandEnroller } from '../../agent/bmc/enrol-outcome.ts';
import { ipmiDevice } from '../../agent/bmc/ipmitool-inband.ts';
import { parseUserList } from '../../agent/parse/ipmitool-users.ts';
import { startIpmiSim, type IpmiSimPeer, type IpmiSimOptions } from '../bmc/peers/ipmi-sim.ts';
import { lanRunner, lanTry } from '../bmc/peers/ipmi-lan-runner.ts';
import { waitFor } from '../bmc/peers/net.ts';

const peers: IpmiSimPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) await p.stop();
});

async function bmc(o: IpmiSimOptions = {}) {
  const sim = await startIpmiSim(o);
  peers.push(sim);
  const at = { addr: sim.addr, port: sim.lanPort };
  const admin = lanRunner({ ...at, ...sim.admin });
  await waitFor(
    'ipmi_sim to answer',
    async () => ((await lanTry(at, sim.admin.username, sim.admin.password, ['mc', 'info'])).ok ? true : undefined),
    100,
    100,
  );
  return { sim, at, admin, users: async () => parseUserList(await admin(['-c', 'user', 'list', '1'])) };
}

describe('in-band enrolment (agent/bmc) on ipmi_sim', () => {
  it('creates crashcart on the first free slot, leaves the other users alone, and the new user can log in over LAN', async () => {
    const b = await bmc({
      lanAddress: { ip: '10.66.0.9', netmask: '255.255.255.0', mac: '52:54:00:aa:bb:cc' },
      users: [{ id: 3, name: 'ops', password: 'opsSecret1', priv: 'operator' }],
    });
    const before = await b.users();
    const r = await enrolBmc(b.admin);
    expect(r).toMatchObject({
      address: '10.66.0.9',
      mac: '52:54:00:aa:bb:cc',
      channel: 1,
      user_id: 4,
      username: 'crashcart',
      reused: false,
    });
    expect(r.password).toMatch(/^[A-Za-z0-9]{16}$/);
    const after = await b.users();
    // Slots 1-3 (anonymous, admin, ops) are exactly as they were; slot 4 is ours with administrator privilege.
    expect(after.slice(0, 3)).toEqual(before.slice(0, 3));
    expect(after[3]).toMatchObject({ id: 4, name: 'crashcart', ipmi: true, privilege: 'ADMINISTRATOR' });
    expect(after.slice(4)).toEqual(before.slice(4));
    const login = await lanTry(b.at, 'crashcart', r.password, ['chassis', 'power', 'status']);
    expect(login).toEqual({ ok: true, out: 'Chassis Power is off\n' });
    // The ops user still logs in with its own password.
    expect((await lanTry(b.at, 'ops', 'opsSecret1', ['chassis', 'power', 'status'])).ok).toBe(true);
  });

  it('reuses its own slot on a second enrolment: a new password, the old one stops working', async () => {
    const b = await bmc();
    const first = await enrolBmc(b.admin);
    const second = await enrolBmc(b.admin);
    expect(second).toMatchObject({ user_id: first.user_id, reused: true });
    expect(second.password).not.toBe(first.password);
    expect((await lanTry(b.at, 'crashcart', first.password, ['chassis', 'power', 'status'])).ok).toBe(false);
    expect((await lanTry(b.at, 'crashcart', second.password, ['chassis', 'power', 'status'])).ok).toBe(true);
    // One crashcart user, not two.
    expect((await b.users()).filter((u) => u.name === 'crashcart')).toHaveLength(1);
  });

  it('a BMC with no LAN address reports none', async () => {
    const b = await bmc();
    expect((await enrolBmc(b.admin)).address).toBeNull();
  });

  it('refuses when every slot holds a user, and changes nothing', async () => {
    const users = Array.from({ length: 61 }, (_, i) => ({
      id: i + 3,
      name: `u${i + 3}`,
      password: `pw${i + 3}xyzabc`,
      priv: 'user' as const,
    }));
    const b = await bmc({ users });
    const before = await b.users();
    const e = await enrolBmc(b.admin).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EnrolError);
    expect((e as Error).message).toMatch(/no free user slot .* set the BMC by hand/);
    expect(await b.users()).toEqual(before);
  });

  it('becomes a failed outcome that never carries the password, even when a tool echoes it', async () => {
    const echo = async (args: readonly string[]) => {
      if (args[2] === 'password') throw new Error(`BMC said: bad password ${args[4]}`);
      if (args[0] === 'channel') return 'Channel Medium Type : 802.3 LAN\n';
      return '3,,true,false,false,NO ACCESS\n';
    };
    const out = await enrolOutcome(() => enrolBmc(echo, { password: 'Secret0123456789' }));
    expect(out).toEqual({ outcome: 'failed', reason: expect.stringContaining('[redacted]') });
    expect(JSON.stringify(out)).not.toContain('Secret0123456789');
  });

  it('on a machine without an IPMI device says so and what to do', async () => {
    await expect(ipmiDevice(['/nonexistent/ipmi0'])).rejects.toThrow(/no in-band IPMI interface .* set the BMC by hand/);
    // This test machine has no /dev/ipmi0 either: the microkernel's enroller reports a failure, it does not throw.
    const out = await inbandEnroller()();
    expect(out.outcome).toBe('failed');
  });
});
