import { describe, it, expect } from 'vitest';
import { REDACTED, redactSecrets, redactText, redactingLogger } from '../../server/secrets/redact.ts';
import type { Logger } from '../../server/core/plugin.ts';

describe('redacting secrets from logs', () => {
  it('replaces secret fields at any depth, keeps the rest, does not touch the original', () => {
    const input = {
      node_id: 4,
      bmc: { driver: 'ipmi', address: '10.0.0.9', username: 'admin', password: 'p@ss', password_enc: 'ccs1:k1:...' },
      headers: { Authorization: 'Basic YWRtaW46cEBzcw==', 'X-Auth-Token': 'tok', cookie: 'cc_session=1' },
      list: [{ enrol_token: 'abc' }, { IPMI_PASSWORD: 'p@ss' }, 'plain'],
      secret_key: 'k',
      key: 'k2',
      keyboard: 'us',
    };
    const copy = structuredClone(input);
    const out = redactSecrets(input) as any;
    expect(input).toEqual(copy);
    expect(out.node_id).toBe(4);
    expect(out.bmc).toEqual({ driver: 'ipmi', address: '10.0.0.9', username: 'admin', password: REDACTED, password_enc: REDACTED });
    expect(out.headers).toEqual({ Authorization: REDACTED, 'X-Auth-Token': REDACTED, cookie: REDACTED });
    expect(out.list).toEqual([{ enrol_token: REDACTED }, { IPMI_PASSWORD: REDACTED }, 'plain']);
    expect(out.secret_key).toBe(REDACTED);
    expect(out.key).toBe(REDACTED);
    expect(out.keyboard).toBe('us');
    expect(JSON.stringify(out)).not.toMatch(/p@ss|YWRtaW46|tok"|abc/);
  });

  it('survives cycles, deep nesting, errors, buffers and maps', () => {
    const a: any = { name: 'a', password: 'x' };
    a.self = a;
    let deep: any = { password: 'deep' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    const err = Object.assign(new Error('boom'), { code: 'E1', password: 'in-error' });
    const out = redactSecrets({ a, deep, err, buf: Buffer.from('secret bytes'), m: new Map([['token', 't']]) }) as any;
    expect(out.a.self).toBe('[cycle]');
    expect(out.a.password).toBe(REDACTED);
    expect(JSON.stringify(out.deep)).toContain('[nested]');
    expect(JSON.stringify(out)).not.toContain('"password":"deep"');
    expect(out.err).toEqual({ name: 'Error', message: 'boom', code: 'E1' });
    expect(out.buf).toBe('[12 bytes]');
    expect(out.m).toEqual({ token: REDACTED });
    // The same object twice (not a cycle) is shown twice.
    const shared = { v: 1 };
    expect(redactSecrets({ x: shared, y: shared })).toEqual({ x: { v: 1 }, y: { v: 1 } });
  });

  it('cuts known secret values out of text', () => {
    expect(redactText('user admin password hunter2, again hunter2', ['hunter2', '', null])).toBe(
      `user admin password ${REDACTED}, again ${REDACTED}`,
    );
  });

  it('redactingLogger redacts what it passes on', () => {
    const lines: unknown[] = [];
    const sink: Logger = {
      debug: (o) => lines.push(o),
      info: (o) => lines.push(o),
      warn: (o) => lines.push(o),
      error: (o) => lines.push(o),
    };
    const log = redactingLogger(sink);
    log.info({ bmc: { password: 'pw1' } }, 'set bmc');
    log.error({ token: 'pw2' });
    expect(JSON.stringify(lines)).not.toMatch(/pw1|pw2/);
    expect(lines).toHaveLength(2);
  });
});
