/// <reference types="vite/client" />
import type { CrashcartBridge } from '../../contract/ipc.ts';

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

declare global {
  interface Window {
    /** Present only inside the Electron shell (preload bridge). */
    crashcart?: CrashcartBridge;
  }
}
export {};
