/**
 * The pure part of server/http/connection-caps.ts: the caps a plane gets from the process's descriptor limit,
 * read from /proc/self/limits text.
 */
import { describe, it, expect } from 'vitest';
import {
  defaultCaps,
  descriptorLimit,
  DEFAULT_HTTP_CONNECTIONS_MAX,
  DEFAULT_HTTP_CONNECTIONS_PER_SOURCE,
} from '../../server/http/connection-caps.ts';

const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             95000                95000                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \n`;

describe('descriptorLimit', () => {
  it('reads the soft limit, unlimited as none, and text without the line as none', () => {
    expect(descriptorLimit(limits('1024', '524288'))).toBe(1024);
    expect(descriptorLimit(limits('unlimited', 'unlimited'))).toBeNull();
    expect(descriptorLimit('Max processes 5 5 processes\n')).toBeNull();
  });
  it('reads this process', () => {
    expect(descriptorLimit()).toBeGreaterThan(0);
  });
});

describe('defaultCaps', () => {
  it('keeps the defaults where descriptors are plenty', () => {
    expect(defaultCaps(2, 1_048_576)).toEqual({ total: DEFAULT_HTTP_CONNECTIONS_MAX, perSource: DEFAULT_HTTP_CONNECTIONS_PER_SOURCE });
    expect(defaultCaps(2, null)).toEqual({ total: DEFAULT_HTTP_CONNECTIONS_MAX, perSource: DEFAULT_HTTP_CONNECTIONS_PER_SOURCE });
  });
  it('shares half the descriptors between the planes, and a quarter of a plane per source', () => {
    expect(defaultCaps(2, 1024)).toEqual({ total: 256, perSource: 64 });
    expect(defaultCaps(2, 4096)).toEqual({ total: 1024, perSource: 128 });
    expect(defaultCaps(1, 1024)).toEqual({ total: 512, perSource: 128 });
  });
  it('never reaches zero', () => {
    expect(defaultCaps(2, 3)).toEqual({ total: 1, perSource: 1 });
  });
});
