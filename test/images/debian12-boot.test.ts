/**
 * The proof that `crashcart image build debian12` makes a disk that boots: two QEMU machines (SeaBIOS
 * and OVMF, TCG) each boot a copy-on-write copy of the built image as a 3 GiB virtio disk, with a
 * NoCloud seed as a second disk (vfat CIDATA for one, an xorriso ISO for the other) that sets the
 * hostname, an SSH key and a static address. The serial console must show GRUB, Debian and the seeded
 * hostname (in the host-key lines cloud-init prints); then the test logs in over SSH from the test's namespace with that key and checks the
 * OS, the firmware it booted with, the root filesystem grown to the disk (growpart), and that each
 * machine made its own SSH host key. Timings are printed, never asserted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { Lab, type BridgedNet } from '../support/netns-lab.ts';
import { checkQemu, stopGuest, type Guest } from '../e2e/harness/qemu.ts';
import { sshRun, startDiskGuest, waitSerial, type DiskGuestSpec } from './harness/disk-guest.ts';
import { makeSeed } from './harness/nocloud-seed.ts';
import { run, tmpDir } from './harness/tools.ts';

const IMAGE = path.join(REPO_ROOT, 'build/out/images/debian12/disk.raw.zst');
const lab = new Lab('images', 'boot');
const NS = lab.ns('net');
const SUBNET = '10.67.0';
/** TCG boot to an SSH login, two guests at once on two shared cores: measured 3-5 min; CI may be slower. */
const BOOT_TIMEOUT_MS = 14 * 60_000;
const GIB = 1024 ** 3;

const work = tmpDir('boot');
let net: BridgedNet | null = null;
const guests: Record<string, Guest> = {};
const hostKeys: Record<string, string> = {};
const key = path.join(work, 'id_ed25519');

const SPECS = [
  { name: 'img-bios', firmware: 'bios' as const, mac: '52:54:00:cc:1b:01', ip: `${SUBNET}.11`, seedForm: 'vfat' as const },
  { name: 'img-uefi', firmware: 'uefi' as const, mac: '52:54:00:cc:1e:01', ip: `${SUBNET}.12`, seedForm: 'iso' as const },
];

beforeAll(async () => {
  if (!fs.existsSync(IMAGE))
    throw new Error(
      `${IMAGE} is missing\n  fix: bash scripts/ensure-test-deps.sh (it builds the image once: crashcart image build debian12 --output build/out/images/debian12)`,
    );
  checkQemu();
  const base = path.join(work, 'debian12.raw');
  run('zstd', ['-q', '-d', '--sparse', IMAGE, '-o', base]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'crashcart-image-test', '-f', key]);
  const pub = fs.readFileSync(`${key}.pub`, 'utf8').trim();
  net = lab.bridgedNet('net', `${SUBNET}.1`, 24);
  for (const s of SPECS) {
    const seed = path.join(work, `${s.name}-seed.img`);
    makeSeed(
      seed,
      {
        hostname: `${s.name}-host`,
        instanceId: `iid-${s.name}`,
        // ed25519 only: RSA key generation alone takes a minute on an emulated CPU.
        userData: `hostname: ${s.name}-host\nssh_authorized_keys:\n  - ${pub}\nssh_genkeytypes: [ed25519]\n`,
        networkConfig: `version: 2\nethernets:\n  nic0:\n    match:\n      macaddress: "${s.mac}"\n    addresses: [${s.ip}/24]\n`,
      },
      s.seedForm,
    );
    const spec: DiskGuestSpec = {
      name: s.name,
      firmware: s.firmware,
      memoryMb: 1024,
      baseImage: base,
      diskBytes: 3 * GIB,
      seedImage: seed,
      mac: s.mac,
      tap: lab.addTap(net),
    };
    guests[s.name] = startDiskGuest(NS, spec, path.join(work, s.name));
  }
}, 300_000);

afterAll(async () => {
  for (const g of Object.values(guests)) await stopGuest(g);
  // Keep the consoles for a look after the run (test-output/ is not committed).
  const out = path.join(REPO_ROOT, 'test-output', 'images');
  fs.mkdirSync(out, { recursive: true });
  for (const s of SPECS)
    if (fs.existsSync(path.join(work, `${s.name}.serial.log`)))
      fs.copyFileSync(path.join(work, `${s.name}.serial.log`), path.join(out, `${s.name}.serial.log`));
  await lab.cleanup();
  expect(lab.leftovers()).toEqual([]);
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the built debian12 image boots from disk', () => {
  for (const s of SPECS) {
    it(
      `${s.firmware === 'bios' ? 'BIOS (SeaBIOS)' : 'UEFI (OVMF)'}: GRUB, Debian 12, the seeded hostname, SSH with the seeded key, growpart`,
      async () => {
        const g = guests[s.name]!;
        const t0 = g.poweredOnAt;
        const grub = await waitSerial(g, /GNU GRUB|Welcome to GRUB|GRUB loading/, BOOT_TIMEOUT_MS, 'GRUB');
        const debian = await waitSerial(g, /Welcome to .*Debian GNU\/Linux 12/, BOOT_TIMEOUT_MS, 'systemd starting Debian 12');
        // cloud-init prints the host keys it made to the console, named after the hostname it set (the
        // serial getty's prompt shows it too, but under load it can come minutes later).
        const named = await waitSerial(
          g,
          new RegExp(`cloud-init: \\d+ SHA256:\\S+ root@${s.name}-host \\(ED25519\\)`),
          BOOT_TIMEOUT_MS,
          'host keys named after the seeded hostname',
        );
        const out = await sshRun(
          NS,
          key,
          'debian',
          s.ip,
          'hostname; . /etc/os-release; echo "$PRETTY_NAME"; if [ -d /sys/firmware/efi ]; then echo uefi; else echo bios; fi; findmnt -bno SIZE /; cat /etc/ssh/ssh_host_ed25519_key.pub; sudo cloud-init status --wait >/dev/null; echo done',
          t0 + BOOT_TIMEOUT_MS,
        );
        const sshAt = Date.now();
        const [hostname, pretty, firmware, rootSize, hostKey, done] = out.trim().split('\n');
        expect(hostname).toBe(`${s.name}-host`);
        expect(pretty).toBe('Debian GNU/Linux 12 (bookworm)');
        expect(firmware).toBe(s.firmware);
        // The image's root filesystem is about 1 GiB; growpart + resize2fs took it to the 3 GiB disk.
        expect(Number(rootSize)).toBeGreaterThan(2.5 * GIB);
        expect(hostKey).toMatch(/^ssh-ed25519 /);
        expect(done).toBe('done');
        hostKeys[s.name] = hostKey!;
        const secs = (x: { at: number }) => ((x.at - t0) / 1000).toFixed(0);
        console.log(
          `[images] ${s.name}: GRUB ${secs(grub)} s, systemd ${secs(debian)} s, host keys with the hostname ${secs(named)} s, SSH ${((sshAt - t0) / 1000).toFixed(0)} s after power-on`,
        );
      },
      BOOT_TIMEOUT_MS + 60_000,
    );
  }
  it('each machine generated its own SSH host key (none were baked into the image)', () => {
    expect(Object.keys(hostKeys)).toHaveLength(2);
    expect(hostKeys['img-bios']).not.toBe(hostKeys['img-uefi']);
  });
});
