/** Mount a component inside the naive-ui providers with a fake app context. */
import { defineComponent, h, ref, type Component } from 'vue';
import { mount, type VueWrapper } from '@vue/test-utils';
import { NConfigProvider, NDialogProvider, NMessageProvider } from 'naive-ui';
import type { Node } from '../../../contract/node.ts';
import { APP_KEY, type AppContext } from '../state/app-context.ts';
import { NodesStore } from '../state/nodes-store.ts';
import { StatusStore } from '../state/status-store.ts';
import { EventStream } from '../api/event-stream.ts';

/** Mount `comp` with props, a node store preloaded with `nodes`, and the providers it needs. */
export async function mountInApp(
  comp: Component,
  props: Record<string, unknown>,
  nodes: Node[] = [],
): Promise<{ wrapper: VueWrapper; ctx: AppContext }> {
  const store = new NodesStore({ fetchAll: async () => nodes, fetchOne: async (id) => nodes.find((n) => n.id === id) ?? null });
  await store.load();
  const ctx: AppContext = {
    stream: new EventStream(),
    nodes: store,
    status: new StatusStore(),
    route: ref({ screen: 'nodes', param: null }),
    go: () => {},
  };
  const Host = defineComponent({
    setup: () => () => h(NConfigProvider, null, () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(comp, props)))),
  });
  const wrapper = mount(Host, { global: { provide: { [APP_KEY as symbol]: ctx } }, attachTo: document.body });
  return { wrapper, ctx };
}
