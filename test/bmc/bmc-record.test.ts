import { afterAll, describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Value } from 'typebox/value';
import { BmcInputSchema, BmcViewSchema, PowerRequestSchema, type BmcInput } from '../../contract/index.ts';
import { bmcRecordFromInput, bmcTarget, bmcView } from '../../server/bmc/bmc-record.ts';
import { SecretBox } from '../../server/secrets/secret-box.ts';
import { CcError } from '../../server/errors/cc-error.ts';

const made: string[] = [];
/** A temp dir removed after the file's tests. */
const tmp = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
};
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const box = () => SecretBox.open(tmp('cc-bmc-record-'));

describe('a node BMC record', () => {
  it('seals the password for that node, shows no password, opens it for the driver', async () => {
    const b = await box();
    const input: BmcInput & { password: string } = {
      driver: 'redfish',
      address: 'bmc-12.rack.example',
      username: 'root',
      password: 'calvin-not-really',
    };
    const rec = bmcRecordFromInput(12, input, b);
    expect(rec).toMatchObject({
      driver: 'redfish',
      port: 443,
      tls: 'pin',
      tls_fingerprint: null,
      system_path: null,
      ipmi_cipher_suite: null,
    });
    expect(JSON.stringify(rec)).not.toContain('calvin-not-really');
    const view = bmcView(rec);
    expect(Value.Check(BmcViewSchema, view)).toBe(true);
    expect(view.password_set).toBe(true);
    expect(JSON.stringify(view)).not.toMatch(/calvin|password_enc|ccs1/);
    expect(bmcTarget(12, rec, b).password).toBe('calvin-not-really');
    const ipmi = bmcRecordFromInput(
      3,
      { driver: 'ipmi', address: '10.0.0.3', username: 'ADMIN', password: 'x', system_path: '/redfish/v1/Systems/1' },
      b,
    );
    expect(ipmi).toMatchObject({ port: 623, system_path: null });
  });

  it('a record copied onto another node does not open', async () => {
    const b = await box();
    const rec = bmcRecordFromInput(1, { driver: 'ipmi', address: '10.0.0.1', username: 'admin', password: 'node-one' }, b);
    expect(() => bmcTarget(2, rec, b)).toThrow(CcError);
    try {
      bmcTarget(2, rec, b);
    } catch (e) {
      expect((e as CcError).code).toBe('CC_ERR_SECRET_UNREADABLE');
    }
  });

  it('the API schemas refuse what could be read as a tool option or a header injection', () => {
    const ok = { driver: 'ipmi', address: '10.0.0.5', username: 'admin', password: 'pw' };
    expect(Value.Check(BmcInputSchema, ok)).toBe(true);
    expect(Value.Check(BmcInputSchema, { ...ok, address: 'fe80::1' })).toBe(true);
    for (const bad of [
      { ...ok, address: '-oProxyCommand=x' },
      { ...ok, address: '10.0.0.5 -P x' },
      { ...ok, username: 'admin\r\nX-Evil: 1' },
      { ...ok, password: 'a\nb' },
      { ...ok, driver: 'amt' },
      { ...ok, tls: 'none' },
      { ...ok, system_path: 'https://evil/redfish/v1/Systems/1' },
      { ...ok, extra: 1 },
    ])
      expect(Value.Check(BmcInputSchema, bad), JSON.stringify(bad)).toBe(false);
    expect(Value.Check(PowerRequestSchema, { node_ids: [1, 2], action: 'on', boot: 'pxe', persistent: false })).toBe(true);
    expect(Value.Check(PowerRequestSchema, { node_ids: [1], action: 'hibernate' })).toBe(false);
  });
});
