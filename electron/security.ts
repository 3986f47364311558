/**
 * The window's security rules (Electron security checklist): navigation locked to the app
 * origin, new windows refused (http/https links go to the system browser), no webviews,
 * and IPC accepted only from the app's own top frame.
 */
import type { IpcMainInvokeEvent, Shell, WebContents } from 'electron';

/** Is `url` on the app's origin? */
export function isAppUrl(url: string, appOrigin: string): boolean {
  try {
    return new URL(url).origin === appOrigin;
  } catch {
    return false;
  }
}

/** May this URL be handed to the system browser? Only http(s), never file:, javascript:, smb: … */
export function isExternalSafe(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Apply the navigation and window-open rules to a window's contents. */
export function lockDownContents(contents: WebContents, appOrigin: string, shell: Pick<Shell, 'openExternal'>): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, appOrigin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalSafe(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/** IPC sender check: the main frame of one of our windows, on the app origin. */
export function isTrustedSender(
  event: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>,
  appOrigin: string,
  trusted: ReadonlySet<number>,
): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!trusted.has(event.sender.id)) return false;
  return isAppUrl(frame.url, appOrigin);
}
