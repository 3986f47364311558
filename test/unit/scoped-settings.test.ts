/** The one mechanism for settings per appliance, per tag and per node (server/settings/scoped.ts). */
import { describe, expect, it } from 'vitest';
import { describeResolved, resolveScoped } from '../../server/settings/scoped.ts';

describe('resolveScoped', () => {
  it('node > tag > appliance; unset layers (null, undefined) fall through', () => {
    expect(resolveScoped({ node: 'a', tags: [{ tag: 't', value: 'b' }], appliance: 'c' })).toMatchObject({ value: 'a', from: 'node' });
    expect(resolveScoped({ node: null, tags: [{ tag: 't', value: 'b' }], appliance: 'c' })).toMatchObject({
      value: 'b',
      from: 'tag',
      tag: 't',
    });
    expect(resolveScoped({ node: undefined, tags: [{ tag: 't', value: null }], appliance: 'c' })).toMatchObject({
      value: 'c',
      from: 'appliance',
    });
    expect(resolveScoped({ node: 0, tags: [], appliance: 5 })).toMatchObject({ value: 0, from: 'node' }); // falsy values are values
  });
  it('tags that disagree: the rank decides, then the tag name, never the order', () => {
    const rank = (v: string) => ({ shim: 0, auto: 1, ipxe: 2 })[v] ?? 9;
    const tags = [
      { tag: 'zz', value: 'ipxe' },
      { tag: 'aa', value: 'auto' },
      { tag: 'mm', value: 'shim' },
    ];
    const r = resolveScoped({ node: null, tags, appliance: 'ipxe' }, rank);
    expect(r).toEqual({ value: 'shim', from: 'tag', tag: 'mm', outvoted: ['zz', 'aa'] });
    expect(resolveScoped({ node: null, tags: [...tags].reverse(), appliance: 'ipxe' }, rank).tag).toBe('mm');
    expect(
      resolveScoped({
        node: null,
        tags: [
          { tag: 'b', value: 1 },
          { tag: 'a', value: 2 },
        ],
        appliance: 0,
      }),
    ).toMatchObject({ tag: 'a', value: 2 });
    expect(describeResolved(r)).toBe('shim (tag mm; tags zz, aa set another value)');
    expect(describeResolved(resolveScoped({ node: null, tags: [], appliance: 'ipxe' }))).toBe('ipxe (appliance)');
  });
});
