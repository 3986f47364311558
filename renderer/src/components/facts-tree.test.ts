// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import { giveElementsASize } from '../test-fixtures/layout-shim.ts';

giveElementsASize();
import FactsTree from './facts-tree.vue';

describe('facts tree', () => {
  it('narrows to the leaves matching a search and offers a tag from a flat fact', async () => {
    const facts: Record<string, string | number> = { serialnumber: 'XY-42-SERIAL', manufacturer: 'Dell Inc.', memorysize_mb: 65536 };
    for (let i = 0; i < 40; i++) facts[`filler_${i}`] = `value ${i}`;
    const w = mount(FactsTree, { props: { facts, inventory: { system: { serial: 'XY-42-SERIAL' } } }, attachTo: document.body });
    await w.find('[data-test="facts-search"] input').setValue('xy-42');
    await nextTick();
    expect(w.find('[data-test="facts-matches"]').text()).toBe('2 match(es)');
    const text = w.find('[data-test="facts-tree"]').text();
    expect(text).toContain('serialnumber = XY-42-SERIAL');
    expect(text).not.toContain('filler_3');
    await w.find('[data-test="tag-from-fact"]').trigger('click');
    expect(w.emitted('tagFromFact')?.[0]).toEqual(['serialnumber', 'XY-42-SERIAL']);
    w.unmount();
  });
});
