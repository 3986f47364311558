/**
 * The IPC contract: type tests (checked by `tsc`, the `@ts-expect-error` lines fail the
 * typecheck if a wrong call ever compiles) and the preload exposing exactly one function per
 * channel, each forwarding to its own channel.
 */
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  BRIDGE_KEY,
  IPC_FUNCTIONS,
  type AdminConnection,
  type CrashcartBridge,
  type IpcChannel,
  type IpcChannels,
  type ServerChildState,
} from '../../contract/ipc.ts';

const invoke = vi.fn(async (channel: string, ...args: unknown[]) => ({ channel, args }));
const exposeInMainWorld = vi.fn();
vi.mock('electron', () => ({ ipcRenderer: { invoke }, contextBridge: { exposeInMainWorld } }));

describe('IPC contract types', () => {
  it('derives each preload function from its channel', () => {
    expectTypeOf<CrashcartBridge['getConnection']>().toEqualTypeOf<() => Promise<AdminConnection>>();
    expectTypeOf<CrashcartBridge['getServerState']>().toEqualTypeOf<() => Promise<ServerChildState>>();
    expectTypeOf<CrashcartBridge['openExternal']>().toEqualTypeOf<(arg: string) => Promise<boolean>>();
    expectTypeOf<keyof CrashcartBridge>().toEqualTypeOf<keyof typeof IPC_FUNCTIONS>();
    expectTypeOf<(typeof IPC_FUNCTIONS)[keyof typeof IPC_FUNCTIONS]>().toEqualTypeOf<IpcChannel>();
    expectTypeOf<IpcChannels['crashcart:open-external']['result']>().toEqualTypeOf<boolean>();
    const bridge = {} as CrashcartBridge;
    // @ts-expect-error openExternal takes a URL string
    void (() => bridge.openExternal(42));
    // @ts-expect-error getConnection takes no argument
    void (() => bridge.getConnection('x'));
    // @ts-expect-error there is no channel for arbitrary commands
    void (() => bridge.runCommand);
  });
});

describe('preload', () => {
  it('exposes one function per channel under window.crashcart, each on its own channel', async () => {
    const { bridge } = await import('../../electron/preload.ts');
    expect(exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(exposeInMainWorld.mock.calls[0]![0]).toBe(BRIDGE_KEY);
    const exposed = exposeInMainWorld.mock.calls[0]![1] as Record<string, unknown>;
    expect(exposed).toBe(bridge);
    expect(Object.keys(exposed).sort()).toEqual(Object.keys(IPC_FUNCTIONS).sort());
    for (const [fn, channel] of Object.entries(IPC_FUNCTIONS)) {
      invoke.mockClear();
      const arg = fn === 'openExternal' ? 'https://example.org/' : undefined;
      await (exposed[fn] as (a?: string) => Promise<unknown>)(arg);
      expect(invoke).toHaveBeenCalledTimes(1);
      expect(invoke.mock.calls[0]![0]).toBe(channel);
      expect(invoke.mock.calls[0]!.slice(1)).toEqual(arg === undefined ? [] : [arg]);
    }
    // Nothing of Electron or Node leaks through the bridge: only plain functions.
    expect(Object.values(exposed).every((v) => typeof v === 'function')).toBe(true);
  });
});
