// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import { giveElementsASize } from '../test-fixtures/layout-shim.ts';

giveElementsASize();
import NodesTable from './nodes-table.vue';
import { makeNode } from '../test-fixtures/nodes.ts';

// Node 3 has registered with its fast facts only (register-first).
const rows = Array.from({ length: 2000 }, (_, i) => makeNode(i + 1, i === 2 ? { facts_complete: false } : {}));

function mountTable(selected: ReadonlySet<number> = new Set(), newIds: ReadonlySet<number> = new Set()) {
  const w = mount(NodesTable, { props: { rows, selected, newIds, sortKey: 'id', sortDir: 'asc' }, attachTo: document.body });
  return w;
}

describe('nodes table', () => {
  it('renders only a window of rows for a long list, with the node data', async () => {
    const w = mountTable(new Set(), new Set([2]));
    await nextTick();
    const trs = w.findAll('.tr');
    expect(trs.length).toBeGreaterThan(5);
    expect(trs.length).toBeLessThan(100);
    const first = w.find('[data-node-id="1"]');
    expect(first.text()).toContain('node1');
    expect(first.text()).toContain('SN1001');
    expect(first.find('[data-state="registered"]').exists()).toBe(true);
    expect(w.find('[data-node-id="2"]').classes()).toContain('fresh');
    expect(w.find('[data-node-id="3"] [data-test="facts-partial"]').exists()).toBe(true);
    expect(first.find('[data-test="facts-partial"]').exists()).toBe(false);
    w.unmount();
  });

  it('selects with the keyboard: arrows, shift+arrows, space, ctrl+a, escape', async () => {
    const w = mountTable();
    const grid = w.find('[data-test="nodes-table"]');
    const last = (): number[] => [...((w.emitted('update:selected')?.at(-1)?.[0] as Set<number>) ?? [])];
    await grid.trigger('keydown', { key: ' ' });
    expect(last()).toEqual([1]);
    await grid.trigger('keydown', { key: 'ArrowDown' });
    await grid.trigger('keydown', { key: 'ArrowDown', shiftKey: true });
    await grid.trigger('keydown', { key: 'ArrowDown', shiftKey: true });
    expect(last()).toEqual([2, 3, 4]);
    await grid.trigger('keydown', { key: 'a', ctrlKey: true });
    expect(last()).toHaveLength(2000);
    await grid.trigger('keydown', { key: 'Escape' });
    expect(last()).toEqual([]);
    await grid.trigger('keydown', { key: 'Enter' });
    expect(w.emitted('open')?.at(-1)).toEqual([4]);
    w.unmount();
  });

  it('emits sort for a header and marks selected rows', async () => {
    const w = mountTable(new Set([1]));
    await w.find('[data-sort="memory"]').trigger('click');
    expect(w.emitted('sort')?.[0]).toEqual(['memory']);
    expect(w.find('[data-node-id="1"]').classes()).toContain('sel');
    expect(w.find('[data-node-id="1"]').attributes('aria-selected')).toBe('true');
    w.unmount();
  });
});
