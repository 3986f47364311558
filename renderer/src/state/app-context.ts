/** What every screen shares: the event stream, the live node list, status and navigation. */
import { inject, type InjectionKey, type Ref } from 'vue';
import type { EventStream } from '../api/event-stream.ts';
import type { NodesStore } from './nodes-store.ts';
import type { StatusStore } from './status-store.ts';
import type { Route } from './router.ts';

/** The shared application context (provided by app.vue). */
export interface AppContext {
  stream: EventStream;
  nodes: NodesStore;
  status: StatusStore;
  route: Ref<Route>;
  go: (path: string) => void;
}

/** Injection key of the app context. */
export const APP_KEY: InjectionKey<AppContext> = Symbol('crashcart-app');

/** Get the app context inside a component's setup. */
export function useApp(): AppContext {
  const ctx = inject(APP_KEY);
  if (!ctx) throw new Error('useApp() outside the Crashcart app');
  return ctx;
}
