/**
 * bench/require-tools.ts: a benchmark on a machine without its reference servers stops with one line naming
 * the programs and the apt-get command that installs them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingToolsMessage, packagesFor } from '../../bench/require-tools.ts';
import { findTool } from '../../server/images/tool-run.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-tools-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function fakeTool(name: string, mode: number): void {
  fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n');
  fs.chmodSync(path.join(dir, name), mode);
}

describe('bench tool check', () => {
  it('finds an executable on PATH and not a file that cannot run', () => {
    fakeTool('cc-fake-tool', 0o755);
    fakeTool('cc-fake-plain', 0o644);
    expect(findTool('cc-fake-tool', { PATH: dir })).toBe(path.join(dir, 'cc-fake-tool'));
    expect(findTool('cc-fake-plain', { PATH: dir })).toBeNull();
    expect(findTool('cc-no-such-tool', { PATH: dir })).toBeNull();
  });

  it('names each missing program once and the packages that ship them', () => {
    const msg = missingToolsMessage('storm', ['cc-fake-tool', 'cc-no-such-tool', 'cc-other-missing'], { PATH: dir });
    expect(msg).toMatch(/^bench\/storm: cc-no-such-tool, cc-other-missing are not installed/);
    expect(msg).not.toContain('cc-fake-tool,');
    expect(msg).toMatch(/fix: sudo apt-get install -y --no-install-recommends cc-no-such-tool cc-other-missing$/);
  });

  it('maps programs to their Debian packages, once per package', () => {
    expect(packagesFor(['perfdhcp', 'kea-dhcp4', 'nginx', 'dnsmasq', 'in.tftpd', 'cc-unknown'])).toEqual([
      'kea-admin',
      'kea-dhcp4-server',
      'nginx',
      'dnsmasq-base',
      'tftpd-hpa',
      'cc-unknown',
    ]);
    expect(packagesFor(['perfdhcp', 'perfdhcp'])).toEqual(['kea-admin']);
    expect(missingToolsMessage('tftp', ['cc-fake-tool'], { PATH: dir })).toBe('');
  });
});
