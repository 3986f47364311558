// The node plane's rate-limit key (server/http/rate-key.ts) must give the keys the limiter's own function
// gives, for every spelling of an address a socket or an attacker can produce: only the cost may differ.
import { describe, expect, it } from 'vitest';
import { normalizeIP } from '@fastify/rate-limit';
import { rateKey } from '../../server/http/rate-key.ts';

const ADDRESSES = [
  '10.0.0.5',
  '192.168.100.254',
  '0.0.0.0',
  '255.255.255.255',
  '::1',
  '::',
  '::ffff:10.0.0.5',
  '::FFFF:10.0.0.5',
  '::ffff:a00:5',
  'fe80::1',
  'FE80::ABCD:1',
  '2001:db8::1',
  '2001:0db8:0000:0000:0000:0000:0000:0001',
  '2001:db8:0:1:ffff:ffff:ffff:ffff',
  '2001:db8:0:2::',
  '64:ff9b::10.0.0.5',
];

describe('rateKey', () => {
  it('gives the limiter’s own key for every spelling', () => {
    for (const ip of ADDRESSES) expect([ip, rateKey(ip)]).toEqual([ip, normalizeIP(ip)]);
  });

  it('keeps an IPv4 address as it is and groups IPv6 by /64', () => {
    expect(rateKey('10.0.0.5')).toBe('10.0.0.5');
    expect(rateKey('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(rateKey('2001:db8:0:1::10')).toBe(rateKey('2001:DB8:0:1:ffff::1'));
    expect(rateKey('2001:db8:0:1::10')).not.toBe(rateKey('2001:db8:0:2::10'));
  });
});
