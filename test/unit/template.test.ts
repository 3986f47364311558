import { describe, it, expect } from 'vitest';
import { render, parseTemplate, TemplateError } from '../../server/tasks/template.ts';
import { renderHostname } from '../../server/policies/policy-service.ts';

describe('templates', () => {
  it('renders values, conditionals and loops', () => {
    const ctx = { a: { b: 'x' }, list: ['k1', 'k2'], yes: true, no: '', n: 0 };
    expect(render('{{a.b}}-{{ missing }}-{{n}}', ctx)).toBe('x--0');
    expect(render('{{#if yes}}Y{{else}}N{{/if}}{{#if no}}Y{{else}}N{{/if}}', ctx)).toBe('YN');
    expect(render('{{#each list}}[{{this}}|{{a.b}}]{{/each}}', ctx)).toBe('[k1|x][k2|x]');
    expect(render('${id} stays for iPXE: ${net0/mac}', {})).toBe('${id} stays for iPXE: ${net0/mac}');
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
