/** server/core/interval-logger.ts: a rack-driven service's warnings and errors at most once per interval per message. */
import { describe, expect, it } from 'vitest';
import { intervalLogger } from '../../server/core/interval-logger.ts';

function capture() {
  const lines: { level: string; o: unknown; m: string | undefined }[] = [];
  const at = (level: string) => (o: unknown, m?: string) => void lines.push({ level, o, m });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('intervalLogger', () => {
  it('writes a repeated warning once per interval, then with the count of the ones it did not write', () => {
    const { lines, log } = capture();
    let t = 1_000;
    const l = intervalLogger(log, 10_000, () => t);
    for (let i = 0; i < 500; i++) l.warn({ pool: 'p', mac: `02:00:00:00:${i >> 8}:${i & 255}` }, 'dhcp: pool exhausted');
    expect(lines).toEqual([{ level: 'warn', o: { pool: 'p', mac: '02:00:00:00:0:0' }, m: 'dhcp: pool exhausted' }]);
    t += 9_999;
    l.warn({ pool: 'p' }, 'dhcp: pool exhausted');
    expect(lines).toHaveLength(1);
    t += 1;
    l.warn({ pool: 'p', mac: 'last' }, 'dhcp: pool exhausted');
    expect(lines[1]).toEqual({ level: 'warn', o: { pool: 'p', mac: 'last', unlogged: 500 }, m: 'dhcp: pool exhausted' });
  });

  it('keeps messages and levels apart; debug and info go through; a string-only call keeps its text', () => {
    const { lines, log } = capture();
    const t = 0;
    const l = intervalLogger(log, 10_000, () => t);
    l.warn({}, 'a');
    l.warn({}, 'b');
    l.error({}, 'a');
    l.warn({}, 'a');
    for (let i = 0; i < 3; i++) {
      l.info({ i }, 'started');
      l.debug({ i }, 'detail');
    }
    l.error('plain text');
    l.error('plain text');
    expect(lines.map((x) => `${x.level} ${x.m ?? x.o}`)).toEqual([
      'warn a',
      'warn b',
      'error a',
      'info started',
      'debug detail',
      'info started',
      'debug detail',
      'info started',
      'debug detail',
      'error plain text',
    ]);
  });
});
