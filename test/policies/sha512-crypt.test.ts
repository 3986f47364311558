/**
 * sha512-crypt against the test vectors printed in Drepper's specification ("Unix crypt using SHA-256
 * and SHA-512"), and against a second implementation on this machine: `openssl passwd -6`.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hashRootPassword, parseSetting, randomSalt, sha512Crypt } from '../../server/policies/sha512-crypt.ts';

/** The SHA-512 vectors of the specification: [setting, password, expected]. */
const SPEC_VECTORS: [string, string, string][] = [
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  [
    '$6$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    '$6$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    '$6$rounds=77777$short',
    'we have a short salt string but not a short password',
    '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0',
  ],
  [
    '$6$rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    '$6$rounds=10$roundstoolow',
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

describe('sha512-crypt', () => {
  it.each(SPEC_VECTORS)('spec vector %s', (setting, password, expected) => {
    expect(sha512Crypt(password, setting)).toBe(expected);
  });

  it('hashing again with a finished hash as the setting reproduces it (how a login checks a password)', () => {
    for (const [, password, expected] of SPEC_VECTORS) expect(sha512Crypt(password, expected)).toBe(expected);
    expect(sha512Crypt('wrong password', SPEC_VECTORS[0]![2])).not.toBe(SPEC_VECTORS[0]![2]);
  });

  it('agrees with openssl passwd -6 for passwords of every length class and non-ASCII text', () => {
    // Lengths around the 64-byte block of SHA-512 exercise every branch of the P sequence.
    const passwords = [
      'x',
      'correct horse battery staple',
      'ü€漢字-pässwörd',
      'a'.repeat(63),
      'b'.repeat(64),
      'c'.repeat(65),
      'd'.repeat(200),
    ];
    for (const pw of passwords) {
      const salt = randomSalt();
      const ours = sha512Crypt(pw, `$6$rounds=5000$${salt}`);
      const theirs = execFileSync('openssl', ['passwd', '-6', '-salt', `rounds=5000$${salt}`, '-stdin'], { input: pw })
        .toString()
        .trim();
      expect(ours).toBe(theirs);
    }
  });

  it('hashRootPassword draws a fresh 16-character salt each time and names its rounds', () => {
    const a = hashRootPassword('secret');
    const b = hashRootPassword('secret');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\$6\$rounds=5000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(sha512Crypt('secret', a)).toBe(a);
  });

  it('refuses settings of other schemes and clamps rounds as the spec says', () => {
    expect(() => parseSetting('$5$abc')).toThrow(/sha512/);
    expect(parseSetting('$6$rounds=9999999999$s').rounds).toBe(999_999_999);
    expect(parseSetting('$6$abc$def')).toEqual({ rounds: 5000, customRounds: false, salt: 'abc' });
  });
});
