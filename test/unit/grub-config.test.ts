/**
 * GRUB configurations (server/boot/grub-*.ts, task-grub.ts, boot-render.ts): every one the appliance can
 * render passes GRUB's own parser (`grub-script-check` from grub-common, the version Debian's signed GRUB
 * is built from), node text cannot leave its quotes, and a task's iPXE script becomes a GRUB kernel boot
 * or a clear refusal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { grubText, grubValue, grubWord } from '../../server/boot/grub-text.ts';
import { grubBootstrapCfg, grubLocalDiskCfg } from '../../server/boot/grub-scripts.ts';
import { parseGrubNodeName } from '../../server/boot/grub-names.ts';
import { renderGrub } from '../../server/boot/boot-render.ts';
import { taskKernelBoot, tftpNameOf } from '../../server/boot/task-grub.ts';
import type { BootDecision } from '../../server/nodes/boot-flow.ts';
import { BUILTIN_TASKS } from '../../server/tasks/builtin.ts';
import { parseTemplate, renderTemplate } from '../../server/tasks/template.ts';

const URL = 'http://10.66.0.1:8026';
const MAC = '52:54:00:cc:5b:01';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'cc-grub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** GRUB's own parser on a configuration: throws with its message when GRUB would not read it. */
function grubCheck(cfg: string): void {
  const f = path.join(tmp, `c${Math.random().toString(36).slice(2)}.cfg`);
  writeFileSync(f, cfg);
  try {
    execFileSync('grub-script-check', [f], { stdio: 'pipe' });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    if (/ENOENT/.test(err.message))
      throw new Error('grub-script-check is missing\n  fix: apt-get install grub-common (scripts/deps/loaders.txt)');
    throw new Error(`grub-script-check refused:\n${err.stderr?.toString() ?? err.message}\n${cfg}`);
  }
}

/** Read one GRUB word back the way GRUB's lexer joins quoted parts (single quotes literal, \\x escapes). */
function unquote(word: string): string {
  let out = '';
  for (let i = 0; i < word.length;) {
    const c = word[i]!;
    if (c === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${word}`);
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
    } else if (/[\s;|&<>$"{}#]/.test(c)) throw new Error(`unquoted special ${JSON.stringify(c)} in ${word}`);
    else {
      out += c;
      i++;
    }
  }
  return out;
}

const decisions: [string, BootDecision][] = [
  [
    'microkernel amd64',
    { action: 'microkernel', nodeId: 3, token: 'tok-EN_rol', version: '0.4.1', arch: 'amd64', mkPath: '/mk', ipxeKernel: 'vmlinuz-zstd' },
  ],
  [
    'microkernel arm64',
    { action: 'microkernel', nodeId: 4, token: 'tok', version: 'v', arch: 'arm64', mkPath: '/mk/arm64', ipxeKernel: 'vmlinuz' },
  ],
  ['no microkernel', { action: 'no-microkernel', nodeId: 5, token: 'tok', arch: 'arm64' }],
  ['local disk', { action: 'local-disk', nodeId: 6, hostname: "web-1'; reboot #" }],
  ['error', { action: 'error', nodeId: 7 }],
  ['task sanboot', { action: 'task', nodeId: 8, task: 'local', ipxe: '#!ipxe\nsanboot --drive 0x80\n' }],
];

describe('every configuration passes GRUB’s parser', () => {
  it('the bootstrap (grub/grub.cfg)', () => grubCheck(grubBootstrapCfg(URL)));
  it.each(decisions)('%s', (_n, d) => grubCheck(renderGrub(d, URL, MAC).cfg));
  it('GRUB boots the signed vmlinuz even when iPXE is given vmlinuz-zstd', () => {
    const cfg = renderGrub(decisions[0]![1], URL, MAC).cfg;
    expect(cfg).toContain("'(tftp)/mk/vmlinuz'");
    expect(cfg).not.toContain('vmlinuz-zstd');
  });
  it.each(BUILTIN_TASKS.map((t) => [t.name, t] as const))('built-in task %s, rendered, translated or refused', (_n, t) => {
    const ctx = {
      server_url: URL,
      hostname: 'n1',
      token: 'T',
      files_base: `${URL}/api/v1/nodes/1/files/T`,
      stage_url: `${URL}/api/v1/nodes/1/stage?token=T`,
      node: { id: 1, hostname: 'n1' },
      policy: { name: 'p', metadata: { ipxe: 'chain http://example.invalid/x.ipxe' }, ssh_keys: [] },
      image: { name: 'img', url: `${URL}/images/img`, kernel: 'linux', initrd: 'initrd.gz', iso: 'x.iso' },
      facts: {},
    };
    const ipxe = renderTemplate(parseTemplate(t.ipxe), ctx, { escape: (s) => s });
    const r = renderGrub({ action: 'task', nodeId: 1, task: t.name, ipxe }, URL, MAC);
    grubCheck(r.cfg);
    if (t.name === 'local-disk') {
      expect(r.problem).toBeNull();
      expect(r.cfg.split('\n')).toContain('exit');
    } else if (/^kernel /m.test(ipxe)) {
      expect(r.problem, r.cfg).toBeNull();
      expect(r.cfg).toMatch(/^ {2}if linux '\(tftp\)\/images\/img\/linux' /m);
      expect(r.cfg).toContain("initrd '(tftp)/images/img/initrd.gz'");
      expect(r.cfg).not.toMatch(/'initrd=/);
    } else expect(r.problem).not.toBeNull();
  });
});

describe('the microkernel configuration', () => {
  it('loads the architecture’s kernel and initrd over TFTP with the agent’s arguments and BOOTIF of the boot NIC', () => {
    const cfg = renderGrub(decisions[0]![1], URL, MAC).cfg;
    expect(cfg).toContain(
      `if linux '(tftp)/mk/vmlinuz' 'crashcart.url=${URL}' 'crashcart.node=3' 'crashcart.token=tok-EN_rol' 'BOOTIF=01-52-54-00-cc-5b-01' 'console=tty0' 'console=ttyS0,115200n8' 'ipv6.disable=1' 'quiet'; then`,
    );
    expect(cfg).toContain("if initrd '(tftp)/mk/initrd.img'; then boot; fi");
    const arm = renderGrub(decisions[1]![1], URL, MAC).cfg;
    expect(arm).toContain("linux '(tftp)/mk/arm64/vmlinuz'");
    expect(arm).not.toContain('console=');
  });
  it('the bootstrap names the node by MAC, CPU, UUID and a plain serial, and retries', () => {
    const b = grubBootstrapCfg(URL);
    expect(b).toContain('configfile "(tftp)/grub/node/${net_default_mac}/${grub_cpu}/${cc_uuid}/${cc_serial}.cfg"');
    expect(b).toMatch(/for cc_try in 1 2 3 4 5; do/);
    expect(b.trimEnd().endsWith('reboot')).toBe(true);
  });
});

describe('node text stays text', () => {
  it('any string in a GRUB word reads back as itself, controls blanked', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        // eslint-disable-next-line no-control-regex -- the controls are what the test blanks
        expect(unquote(grubWord(s))).toBe(s.replace(/[\u0000-\u001f\u007f]/g, ' '));
      }),
    );
  });
  it('values are whitelisted, echo text loses GRUB syntax', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(unquote(grubValue(s))).toMatch(/^[A-Za-z0-9._:-]*$/);
        expect(unquote(grubText(s))).toMatch(/^[A-Za-z0-9 ._,:/+=@()?-]*$/);
      }),
    );
    const hostile = grubLocalDiskCfg({ nodeId: 6, hostname: "x'; reboot; echo '$(prefix)\n}" });
    grubCheck(hostile);
    expect(hostile.split('\n').filter((l) => l.startsWith('echo'))).toEqual([
      "echo 'Crashcart: x?? reboot? echo ??(prefix)?? boots from its local disk'",
    ]);
  });
  it('the per-node name GRUB asks for is read back strictly', () => {
    expect(parseGrubNodeName('grub/node/52:54:00:cc:5b:01/x86_64/-/CC-SB-1.cfg')).toEqual({
      mac: '52:54:00:cc:5b:01',
      cpu: 'x86_64',
      uuid: undefined,
      serial: 'CC-SB-1',
    });
    for (const bad of [
      'grub/node/52:54:00:cc:5b:01/x86_64/-.cfg',
      'grub/node/a/b/c/d/e.cfg',
      "grub/node/52:54:00:cc:5b:01/x86_64/-/a'b.cfg",
      'grub/node/52:54:00:cc:5b:01/x86_64/-/a b.cfg',
      `grub/node/m/c/u/${'s'.repeat(65)}.cfg`,
      'grub/grub.cfg',
    ])
      expect(parseGrubNodeName(bad), bad).toBeNull();
  });
});

describe('tasks written in iPXE, booted by GRUB', () => {
  it('reads kernel, initrds and arguments; files become TFTP names on the appliance', () => {
    const r = taskKernelBoot(
      [
        '#!ipxe',
        `kernel --name k ${URL}/images/deb/linux initrd=initrd.gz auto=true url=${URL}/api/v1/nodes/1/files/T/preseed.cfg || goto retry`,
        `initrd ${URL}/images/deb/initrd.gz || goto retry`,
        'boot || goto error',
        `kernel ${URL}/images/deb/linux again`,
      ].join('\n'),
      URL,
    );
    expect(r).toEqual({
      ok: true,
      boot: {
        kernel: 'images/deb/linux',
        initrds: ['images/deb/initrd.gz'],
        args: ['auto=true', `url=${URL}/api/v1/nodes/1/files/T/preseed.cfg`],
      },
    });
  });
  it('refuses what GRUB cannot do, saying why', () => {
    const why = (s: string) => {
      const r = taskKernelBoot(s, URL);
      return r.ok ? 'ok' : r.why;
    };
    expect(why('#!ipxe\nchain http://other/x.ipxe')).toMatch(/chains to another script/);
    expect(why('#!ipxe\nsanboot iscsi:10.0.0.9::::iqn.2010-04.org.example:disk')).toMatch(/SAN disk/);
    expect(taskKernelBoot('#!ipxe\niseq ${platform} efi && exit ||\nsanboot --no-describe --drive 0x80 || exit', URL)).toEqual({
      ok: true,
      localDisk: true,
    });
    expect(why('#!ipxe\necho hi')).toMatch(/loads no kernel/);
    expect(why(`#!ipxe\nkernel ${URL}/images/a/k BOOTIF=\${netX/mac}\nboot`)).toMatch(/iPXE settings/);
    expect(why('#!ipxe\nkernel http://mirror.example/linux\nboot')).toMatch(/outside the appliance's images/);
    expect(tftpNameOf(`${URL}/images/a/../../etc/passwd`, URL)).toBe('images/a/../../etc/passwd'); // the TFTP server refuses '..'
    expect(tftpNameOf(`${URL}/api/v1/x`, URL)).toBeNull();
  });
});
