/**
 * IPC in the main process: one handler per channel of contract/ipc.ts, each behind the sender
 * check, each validating its argument again (the renderer is not trusted).
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { IPC_FUNCTIONS, type IpcChannel, type IpcHandler } from '../contract/ipc.ts';

/** Every channel's handler; the type makes a missing channel a compile error. */
export type IpcHandlers = { [C in IpcChannel]: IpcHandler<C> };

/** Argument validators per channel (`undefined` for channels without an argument). */
const VALIDATE: { [C in IpcChannel]: (arg: unknown) => boolean } = {
  'crashcart:get-connection': (a) => a === undefined,
  'crashcart:get-server-state': (a) => a === undefined,
  'crashcart:restart-server': (a) => a === undefined,
  'crashcart:open-external': (a) => typeof a === 'string' && a.length <= 2048,
};

/** Register every channel; returns a function that removes them. */
export function registerIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: IpcHandlers,
  isTrusted: (e: IpcMainInvokeEvent) => boolean,
): () => void {
  const channels = Object.values(IPC_FUNCTIONS) as IpcChannel[];
  for (const channel of channels) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, arg: unknown) => {
      if (!isTrusted(event)) throw new Error(`refused ${channel}: untrusted sender`);
      if (!VALIDATE[channel](arg)) throw new Error(`refused ${channel}: bad argument`);
      return (handlers[channel] as (a: unknown) => unknown)(arg);
    });
  }
  return () => channels.forEach((c) => ipcMain.removeHandler(c));
}
