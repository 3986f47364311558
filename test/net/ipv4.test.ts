/** The hand-scanned dotted-quad parser agrees with the plain definition on valid and malformed input. */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { intToIp, ipToInt } from '../../server/net/ipv4.ts';

/** The definition: four parts of 1-3 digits, each at most 255. */
function reference(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0) >>> 0;
}

describe('ipToInt / intToIp', () => {
  it('parses and formats', () => {
    expect(ipToInt('10.9.0.1')).toBe(0x0a090001);
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipToInt('010.001.000.009')).toBe(0x0a010009);
    expect(intToIp(0x0a090001)).toBe('10.9.0.1');
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '1..2.3',
      '.1.2.3',
      '1.2.3.',
      '256.1.1.1',
      '1.2.3.1000',
      '1.2.3.-1',
      '1.2.3.4 ',
      'a.b.c.d',
      '1.2.3.0x1',
    ])
      expect(ipToInt(bad), bad).toBeNull();
  });

  it('matches the definition on random strings and round-trips every address', () => {
    const chars = fc.constantFrom(...'0123456789..x 9'.split(''));
    fc.assert(fc.property(fc.string({ unit: chars, maxLength: 19 }), (s) => ipToInt(s) === reference(s)));
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => ipToInt(intToIp(n)) === n));
  });
});
