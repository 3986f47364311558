/**
 * Public key checks against keys made by the real ssh-keygen (every accepted type), and hostile or broken
 * pastes: each refused with a reason, and ssh-keygen itself refuses the broken bodies too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSshKey, decodeBase64, sshKeyLines } from '../../contract/ssh-key.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cc-sshkey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, args: string[]): string {
  const f = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name}@crashcart-test`, '-f', f, ...args]);
  return readFileSync(`${f}.pub`, 'utf8').trim();
}
/** ssh-keygen's own verdict on a public key line. */
function keygenAccepts(line: string): boolean {
  const f = path.join(dir, `probe-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(f, `${line}\n`);
  return spawnSync('ssh-keygen', ['-l', '-f', f]).status === 0;
}

describe('ssh public keys', () => {
  const made: [string, string[], string, number | null][] = [
    ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519', null],
    ['rsa2048', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa', 2048],
    ['ecdsa256', ['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256', null],
    ['ecdsa384', ['-t', 'ecdsa', '-b', '384'], 'ecdsa-sha2-nistp384', null],
    ['ecdsa521', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521', null],
  ];
  it.each(made)('accepts a %s key made by ssh-keygen', (name, args, type, bits) => {
    const line = keygen(name, args);
    const r = checkSshKey(`  ${line.replace(' ', '   ')}  `);
    expect(r).toEqual({ ok: true, key: line, type, comment: `${name}@crashcart-test`, bits });
  });

  it('refuses broken bodies that ssh-keygen refuses too', () => {
    const line = keygen('victim', ['-t', 'ed25519']);
    const [type, body, comment] = line.split(' ') as [string, string, string];
    const broken = [
      `${type} ${body.slice(0, -8)} ${comment}`, // cut
      `${type} ${body.slice(0, 20)}${body.slice(21)} ${comment}`, // one character lost (not a multiple of 4)
      `ssh-rsa ${body} ${comment}`, // type and body disagree
      `${type} ${'A'.repeat(body.length)} ${comment}`, // zeros: a length of 0, then garbage
    ];
    for (const b of broken) {
      const r = checkSshKey(b);
      expect(r.ok, b).toBe(false);
      expect(keygenAccepts(b), b).toBe(false);
    }
    // Positive control: the intact line passes both.
    expect(checkSshKey(line).ok).toBe(true);
    expect(keygenAccepts(line)).toBe(true);
  });

  it('refuses a comment that would break out of the installer shell quoting, with the fix', () => {
    const line = keygen('quote', ['-t', 'ed25519']);
    const [type, body] = line.split(' ');
    for (const c of ["x'; rm -rf /target; echo '", 'a"b', 'back`tick`', '$(reboot)', 'ünïcode']) {
      const r = checkSshKey(`${type} ${body} ${c}`);
      expect(r.ok, c).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(/edit the comment/);
    }
  });

  it('explains the usual mistakes: private key, options prefix, DSA, a small RSA key, something else', () => {
    const priv = readFileSync(path.join(dir, 'quote'), 'utf8');
    expect(checkSshKey(priv.split('\n')[0]!)).toMatchObject({ ok: false, reason: expect.stringMatching(/private key/) });
    const ed = keygen('opts', ['-t', 'ed25519']);
    expect(checkSshKey(`restrict,command="/bin/true" ${ed}`)).toMatchObject({ ok: false, reason: expect.stringMatching(/options/) });
    expect(checkSshKey('ssh-dss AAAAB3NzaC1kc3MAAACBAP== x')).toMatchObject({ ok: false, reason: expect.stringMatching(/ed25519/) });
    const small = keygen('rsa1024', ['-t', 'rsa', '-b', '1024']);
    expect(checkSshKey(small)).toMatchObject({ ok: true, bits: 1024 });
    expect(checkSshKey('hello world')).toMatchObject({ ok: false, reason: expect.stringMatching(/not a public key type/) });
    expect(checkSshKey('ssh-ed25519')).toMatchObject({ ok: false, reason: expect.stringMatching(/no base64 body/) });
    expect(checkSshKey(`ssh-ed25519 ${'A'.repeat(20000)}`)).toMatchObject({ ok: false, reason: expect.stringMatching(/longer than/) });
  });

  it('reads key lines from an authorized_keys-style file (blank lines and comments skipped)', () => {
    const a = keygen('f1', ['-t', 'ed25519']);
    const b = keygen('f2', ['-t', 'ed25519']);
    expect(sshKeyLines(`# team keys\r\n${a}\r\n\r\n  ${b}  \n`)).toEqual([a, b]);
  });

  it('decodes base64 strictly (RFC 4648 padding)', () => {
    expect([...decodeBase64('AAECAw==')!]).toEqual([0, 1, 2, 3]);
    expect([...decodeBase64('AAECAwQ=')!]).toEqual([0, 1, 2, 3, 4]);
    expect(decodeBase64('AAECAw')).toBeNull();
    expect(decodeBase64('AA=CAw==')).toBeNull();
    expect(decodeBase64('')).toBeNull();
    expect(Buffer.from(decodeBase64(Buffer.from('crashcart ssh keys').toString('base64'))!).toString()).toBe('crashcart ssh keys');
  });
});
