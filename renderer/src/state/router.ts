/** Hash routing (`#/nodes/12`): the UI is one static page served by the admin plane. */
import { ref, type Ref } from 'vue';

/** The screens. */
export type ScreenName =
  'setup' | 'nodes' | 'node' | 'policies' | 'tags' | 'images' | 'tasks' | 'events' | 'settings' | 'manifest' | 'hooks';

/** A parsed route. */
export interface Route {
  screen: ScreenName;
  /** Node id for the node screen; object name for editors. */
  param: string | null;
}

const SCREENS: readonly ScreenName[] = ['setup', 'nodes', 'policies', 'tags', 'images', 'tasks', 'events', 'settings', 'manifest', 'hooks'];

/** Parse a location hash; anything unknown goes to the node list. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [head, arg] = parts;
  if (head === 'nodes' && arg && /^\d+$/.test(arg)) return { screen: 'node', param: arg };
  if (head && (SCREENS as readonly string[]).includes(head))
    return { screen: head as ScreenName, param: arg ? decodeURIComponent(arg) : null };
  return { screen: 'nodes', param: null };
}

/** Reactive route bound to window.location.hash. */
export function createRouter(win: Window = window): { route: Ref<Route>; go: (path: string) => void; dispose: () => void } {
  const route = ref(parseRoute(win.location.hash));
  const onChange = (): void => {
    route.value = parseRoute(win.location.hash);
  };
  win.addEventListener('hashchange', onChange);
  return {
    route,
    go: (path) => {
      win.location.hash = `#${path}`;
    },
    dispose: () => win.removeEventListener('hashchange', onChange),
  };
}
