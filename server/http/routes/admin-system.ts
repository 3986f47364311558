/** Admin routes: health, status, interfaces, network setup (probe/apply/stop). */
import type { FastifyInstance } from 'fastify';
import type { InterfaceInfo, ProbeResult, Readiness, ServiceStatus, SetupApply } from '../../../contract/index.ts';
import type { CoreContext } from '../../core/context.ts';
import { addRoute } from '../route-table.ts';
import { applianceStatus } from '../../system/status.ts';
import { VERSION } from '../../system/version.ts';

/** What the composition root exposes to the admin plane about its services and network. */
export interface SystemControl {
  services(): ServiceStatus[];
  interfaces(): Promise<InterfaceInfo[]>;
  probe(iface: string): Promise<ProbeResult>;
  /** Patch the config's network group through the start-up validation and restart the NIC services. */
  apply(req: SetupApply): Promise<void>;
  stopNetwork(): Promise<void>;
  /** Can this appliance serve a rack, with the fix per missing piece (issue 12). */
  readiness(): Promise<Readiness>;
}

/** Register system routes. */
export function systemRoutes(app: FastifyInstance, ctx: CoreContext, sys: SystemControl): void {
  const status = () => applianceStatus(ctx, sys.services());
  addRoute(app, 'GET /api/v1/health', async () => ({ ok: true, version: VERSION }));
  addRoute(app, 'GET /api/v1/status', async () => status());
  addRoute(app, 'GET /api/v1/interfaces', async () => ({ interfaces: await sys.interfaces() }));
  addRoute(app, 'POST /api/v1/setup/probe', async (req) => sys.probe(req.body.iface));
  addRoute(app, 'POST /api/v1/setup/apply', async (req) => {
    await sys.apply(req.body);
    return status();
  });
  addRoute(app, 'GET /api/v1/readiness', async () => sys.readiness());
  addRoute(app, 'POST /api/v1/setup/stop', async () => {
    await sys.stopNetwork();
    return status();
  });
}
