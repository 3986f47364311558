/**
 * The IPC contract between the Electron main process and the renderer: every channel,
 * its argument and its answer, defined once. The preload exposes one function per
 * channel (`window.crashcart`), and the renderer's API type is derived from here.
 */

/** How the renderer reaches the admin plane when it runs inside Electron. */
export interface AdminConnection {
  /** Origin of the admin plane, e.g. `http://127.0.0.1:8027`. */
  baseUrl: string;
  /** The admin token, sent as `Authorization: Bearer`; never put in a URL. */
  token: string;
}

/** What the shell knows about the server child process. */
export interface ServerChildState {
  state: 'starting' | 'running' | 'exited' | 'failed';
  /** Admin UI URL once the child printed it. */
  url: string | null;
  /** Error code from the child's output (e.g. CC_ERR_PORT_DENIED). */
  errorCode: string | null;
  /** The exact command that fixes it (setcap or pkexec), when known. */
  fix: string | null;
  /** Last lines the child wrote to stderr, for the operator. */
  log: string[];
}

/** Channel name -> argument and answer. Arguments are validated again in main. */
export interface IpcChannels {
  'crashcart:get-connection': { arg: void; result: AdminConnection };
  'crashcart:get-server-state': { arg: void; result: ServerChildState };
  'crashcart:open-external': { arg: string; result: boolean };
  'crashcart:restart-server': { arg: void; result: ServerChildState };
}

/** One channel name. */
export type IpcChannel = keyof IpcChannels;

/** Preload function name -> channel: the only channels the renderer can reach. */
export const IPC_FUNCTIONS = {
  getConnection: 'crashcart:get-connection',
  getServerState: 'crashcart:get-server-state',
  openExternal: 'crashcart:open-external',
  restartServer: 'crashcart:restart-server',
} as const satisfies Record<string, IpcChannel>;

/** Name of one preload function. */
export type IpcFunctionName = keyof typeof IPC_FUNCTIONS;

/** The function the preload exposes for one channel. */
export type IpcFunction<C extends IpcChannel> = IpcChannels[C]['arg'] extends void
  ? () => Promise<IpcChannels[C]['result']>
  : (arg: IpcChannels[C]['arg']) => Promise<IpcChannels[C]['result']>;

/** `window.crashcart` as the preload exposes it: one function per channel. */
export type CrashcartBridge = { readonly [F in IpcFunctionName]: IpcFunction<(typeof IPC_FUNCTIONS)[F]> };

/** Handler signature in main for one channel (the event is checked before it runs). */
export type IpcHandler<C extends IpcChannel> = (arg: IpcChannels[C]['arg']) => Promise<IpcChannels[C]['result']> | IpcChannels[C]['result'];

/** Key under which the preload exposes the bridge on `window`. */
export const BRIDGE_KEY = 'crashcart';
