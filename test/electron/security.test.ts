/** Window lock-down and IPC sender checks, driven with fake WebContents (electron mocked). */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => ({}));
import { isAppUrl, isExternalSafe, isTrustedSender, lockDownContents } from '../../electron/security.ts';
import { registerIpc } from '../../electron/ipc-main.ts';
import { IPC_FUNCTIONS } from '../../contract/ipc.ts';
import type { IpcMainInvokeEvent, WebContents } from 'electron';

const ORIGIN = 'http://127.0.0.1:8027';

class FakeContents extends EventEmitter {
  openHandler: ((d: { url: string }) => { action: string }) | null = null;
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h;
  }
  /** Emit like Electron: returns whether a listener called preventDefault. */
  attempt(event: string, url: string): boolean {
    let prevented = false;
    this.emit(event, { preventDefault: () => (prevented = true) }, url);
    return prevented;
  }
}

describe('window lock-down', () => {
  it('keeps navigation on the app origin', () => {
    const c = new FakeContents();
    lockDownContents(c as unknown as WebContents, ORIGIN, { openExternal: vi.fn() });
    expect(c.attempt('will-navigate', `${ORIGIN}/#/policies`)).toBe(false);
    expect(c.attempt('will-navigate', 'https://evil.example/')).toBe(true);
    expect(c.attempt('will-navigate', 'http://127.0.0.1:9999/')).toBe(true);
    expect(c.attempt('will-redirect', 'file:///etc/passwd')).toBe(true);
    expect(c.attempt('will-attach-webview', 'x')).toBe(true);
  });

  it('opens only http(s) links externally and never a new app window', () => {
    const c = new FakeContents();
    const openExternal = vi.fn(async () => undefined);
    lockDownContents(c as unknown as WebContents, ORIGIN, { openExternal });
    expect(c.openHandler!({ url: 'https://wiki.example/rack-7' })).toEqual({ action: 'deny' });
    expect(c.openHandler!({ url: 'file:///home/op/.ssh/id_rsa' })).toEqual({ action: 'deny' });
    expect(c.openHandler!({ url: 'smb://share/x' })).toEqual({ action: 'deny' });
    expect(openExternal.mock.calls).toEqual([['https://wiki.example/rack-7']]);
    expect([isExternalSafe('javascript:alert(1)'), isExternalSafe('http://x/'), isExternalSafe('not a url')]).toEqual([false, true, false]);
    expect([isAppUrl(`${ORIGIN}/x`, ORIGIN), isAppUrl('http://127.0.0.1:8028/', ORIGIN)]).toEqual([true, false]);
  });
});

describe('IPC sender checks', () => {
  const event = (url: string, id = 1, sub = false): IpcMainInvokeEvent =>
    ({ sender: { id }, senderFrame: { url, parent: sub ? {} : null } }) as unknown as IpcMainInvokeEvent;

  it('trusts only the top frame of our window on the app origin', () => {
    const trusted = new Set([1]);
    expect(isTrustedSender(event(`${ORIGIN}/#/nodes`), ORIGIN, trusted)).toBe(true);
    expect(isTrustedSender(event('https://evil.example/'), ORIGIN, trusted)).toBe(false);
    expect(isTrustedSender(event(`${ORIGIN}/`, 2), ORIGIN, trusted)).toBe(false);
    expect(isTrustedSender(event(`${ORIGIN}/`, 1, true), ORIGIN, trusted)).toBe(false);
  });

  it('registers every channel, refuses untrusted senders and bad arguments', async () => {
    const handlers = new Map<string, (e: IpcMainInvokeEvent, a: unknown) => Promise<unknown>>();
    const ipcMain = {
      handle: vi.fn((c: string, h: (e: IpcMainInvokeEvent, a: unknown) => Promise<unknown>) => void handlers.set(c, h)),
      removeHandler: vi.fn(),
    };
    const open = vi.fn(async (url: string) => url.startsWith('https:'));
    const remove = registerIpc(
      ipcMain,
      {
        'crashcart:get-connection': () => ({ baseUrl: ORIGIN, token: 'secret' }),
        'crashcart:get-server-state': () => ({ state: 'running', url: ORIGIN, errorCode: null, fix: null, log: [] }),
        'crashcart:open-external': open,
        'crashcart:restart-server': () => ({ state: 'running', url: ORIGIN, errorCode: null, fix: null, log: [] }),
      },
      (e) => isTrustedSender(e, ORIGIN, new Set([1])),
    );
    expect([...handlers.keys()].sort()).toEqual(Object.values(IPC_FUNCTIONS).sort());
    const conn = handlers.get('crashcart:get-connection')!;
    await expect(conn(event(`${ORIGIN}/`), undefined)).resolves.toEqual({ baseUrl: ORIGIN, token: 'secret' });
    await expect(conn(event('https://evil.example/'), undefined)).rejects.toThrow(/untrusted sender/);
    const ext = handlers.get('crashcart:open-external')!;
    await expect(ext(event(`${ORIGIN}/`), { url: 'x' })).rejects.toThrow(/bad argument/);
    await expect(ext(event(`${ORIGIN}/`), 'https://docs.example/')).resolves.toBe(true);
    expect(open).toHaveBeenCalledTimes(1);
    remove();
    expect(ipcMain.removeHandler).toHaveBeenCalledTimes(Object.keys(IPC_FUNCTIONS).length);
  });
});
