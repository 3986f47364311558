/** What the tray shows: one colour for the worst service state, and a line per service. Pure. */
import type { ServiceStatus } from '../contract/system.ts';
import type { ServerChildState } from '../contract/ipc.ts';

/** Tray summary. */
export interface TrayState {
  level: 'ok' | 'warn' | 'error';
  tooltip: string;
  lines: string[];
}

/** Summarise services (and the child's own state) for the tray. */
export function trayState(services: readonly ServiceStatus[], child: ServerChildState['state']): TrayState {
  if (child === 'failed' || child === 'exited') return { level: 'error', tooltip: 'Crashcart: server stopped', lines: ['server: stopped'] };
  if (child === 'starting') return { level: 'warn', tooltip: 'Crashcart: starting…', lines: ['server: starting'] };
  const lines = services.map((s) => `${s.name}: ${s.state}`);
  const failed = services.filter((s) => s.state === 'failed');
  const level = failed.length > 0 ? 'error' : services.some((s) => s.state === 'stopped') ? 'warn' : 'ok';
  const tooltip =
    failed.length > 0
      ? `Crashcart: ${failed.map((s) => s.name).join(', ')} failed`
      : level === 'warn'
        ? 'Crashcart: some services stopped'
        : 'Crashcart: all services running';
  return { level, tooltip, lines };
}
