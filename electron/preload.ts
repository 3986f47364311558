/**
 * Preload (sandboxed, context-isolated): exposes exactly one function per IPC channel on
 * `window.crashcart`, typed from contract/ipc.ts. Nothing else of Electron or Node leaks.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY, IPC_FUNCTIONS, type CrashcartBridge } from '../contract/ipc.ts';

/** The bridge object; each function forwards to its one channel. */
export const bridge: CrashcartBridge = {
  getConnection: () => ipcRenderer.invoke(IPC_FUNCTIONS.getConnection),
  getServerState: () => ipcRenderer.invoke(IPC_FUNCTIONS.getServerState),
  openExternal: (url: string) => ipcRenderer.invoke(IPC_FUNCTIONS.openExternal, url),
  restartServer: () => ipcRenderer.invoke(IPC_FUNCTIONS.restartServer),
};

contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
