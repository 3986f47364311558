/**
 * The Redfish driver (DSP0266 protocol, DSP0268 ComputerSystem schema):
 * power through `Actions/ComputerSystem.Reset` with the ResetTypes the system
 * offers, the next boot device through a PATCH of `Boot` (read back after),
 * the system found in /redfish/v1/Systems when its path is not given.
 */
import type { PowerAction, PowerState } from '../../../contract/index.ts';
import { ccError } from '../../errors/cc-error.ts';
import {
  waitForPower,
  type BmcDriver,
  type BmcTarget,
  type BmcTimings,
  type BootRequest,
  type IdentityOutcome,
  type PowerOutcome,
  type ProbeOutcome,
  type Sleep,
} from '../driver.ts';
import { RedfishHttp, type HttpAnswer, type HttpRequest } from './http-client.ts';
import { RedfishAuth, type RedfishAuthMode } from './auth.ts';
import { allowable, answerError, arr, obj, odataId, ok, scrubbed, str } from './answers.ts';
import { redactText } from '../../secrets/redact.ts';
import { bootPatch, checkBootReadBack, powerStateOf, resetPlan, type ResetType } from './system-model.ts';
import { nicMac, nicMembers, systemIds } from './system-identity.ts';

/** What the Redfish driver is built with. */
export interface RedfishDeps {
  timings: BmcTimings;
  sleep: Sleep;
  /** Called when trust on first use pinned a certificate: the caller stores the fingerprint (and emits an event). */
  onPinned?: (fingerprint: string) => void;
  /** Session or basic authentication; default `auto`. */
  auth?: RedfishAuthMode;
  /** Extra CA certificates (PEM) for TLS policy `verify`. */
  ca?: string;
}

/** One Redfish system behind one BMC. */
export class RedfishDriver implements BmcDriver {
  readonly kind = 'redfish' as const;
  private readonly http: RedfishHttp;
  private readonly auth: RedfishAuth;
  private readonly where: string;
  private root: Promise<unknown> | null = null;
  private systemPath: string | null;

  constructor(
    t: BmcTarget,
    private readonly deps: RedfishDeps,
  ) {
    this.where = `Redfish BMC ${t.address}:${t.port}`;
    this.systemPath = t.system_path;
    this.http = new RedfishHttp({
      tls: { host: t.address, port: t.port, policy: t.tls, fingerprint: t.tls_fingerprint, ca: deps.ca, onPinned: deps.onPinned },
      timeoutMs: deps.timings.requestTimeoutMs,
      retries: deps.timings.retries,
      sleep: deps.sleep,
    });
    this.auth = new RedfishAuth(this.http, this.where, t.username, t.password, deps.auth ?? 'auto');
  }

  /** The service root (unauthenticated, DSP0266 13.3.1), read once per driver. */
  private serviceRoot(): Promise<unknown> {
    this.root ??= this.http.request({ method: 'GET', path: '/redfish/v1/' }).then((a) => {
      if (!ok(a)) throw answerError(a, this.where, 'GET /redfish/v1/', this.auth.secrets);
      if (!str(obj(a.json)['RedfishVersion']))
        throw ccError('CC_ERR_BMC_PROTOCOL', `${this.where}: GET /redfish/v1/ is not a Redfish service root`);
      return a.json;
    });
    this.root.catch(() => (this.root = null));
    return this.root;
  }

  private async call(req: HttpRequest): Promise<HttpAnswer> {
    const headers = await this.auth.headers(() => this.serviceRoot());
    const a = await this.http.request({ ...req, headers: { ...headers, ...req.headers } });
    if (!ok(a)) throw answerError(a, this.where, `${req.method} ${req.path}`, this.auth.secrets);
    return a;
  }

  private async get(path: string): Promise<Record<string, unknown>> {
    return obj((await this.call({ method: 'GET', path })).json);
  }

  /** The system to control: the configured path, else the only member of the Systems collection. */
  private async system(): Promise<string> {
    if (this.systemPath) return this.systemPath;
    const systems = odataId(obj(await this.serviceRoot())['Systems']) ?? '/redfish/v1/Systems';
    const members = arr((await this.get(systems))['Members'])
      .map(odataId)
      .filter((m): m is string => !!m);
    if (members.length !== 1)
      throw ccError('CC_ERR_BMC_SYSTEM_PATH', `${this.where} lists ${members.length} systems: ${members.slice(0, 8).join(', ') || 'none'}`);
    this.systemPath = members[0]!;
    return this.systemPath;
  }

  private async readPower(): Promise<PowerState> {
    return powerStateOf(await this.get(await this.system()));
  }

  /** POST a ResetType to the system's Reset action target. */
  private async reset(sys: Record<string, unknown>, type: ResetType): Promise<void> {
    const action = obj(obj(sys['Actions'])['#ComputerSystem.Reset']);
    const target = str(action['target']);
    if (!target || !/^\/redfish\/[^\s?#]*$/.test(target))
      throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: the system offers no ComputerSystem.Reset action`);
    await this.call({ method: 'POST', path: target, body: { ResetType: type } });
  }

  /** AllowableValues of ResetType, inline or from the action's ActionInfo; null when the BMC does not say. */
  private async resetTypes(sys: Record<string, unknown>): Promise<string[] | null> {
    const action = obj(obj(sys['Actions'])['#ComputerSystem.Reset']);
    const inline = allowable(action['ResetType@Redfish.AllowableValues']);
    if (inline) return inline;
    const info = str(action['@Redfish.ActionInfo']);
    if (!info || !/^\/redfish\//.test(info)) return null;
    const p = arr((await this.get(info))['Parameters'])
      .map(obj)
      .find((x) => x['Name'] === 'ResetType');
    return p ? allowable(p['AllowableValues']) : null;
  }

  probe(): Promise<ProbeOutcome> {
    return this.guard(() => this.probeOnce());
  }

  identity(): Promise<IdentityOutcome> {
    return this.guard(() => this.identityOnce());
  }

  power(action: PowerAction): Promise<PowerOutcome> {
    return this.guard(() => this.powerOnce(action));
  }

  setBootDevice(req: BootRequest): Promise<{ warnings: string[] }> {
    return this.guard(() => this.bootOnce(req));
  }

  /**
   * One public call with the credentials cut out of what it reports: besides error bodies (answerError), a BMC's
   * own values reach errors and warnings (the ResetTypes it offers, a boot target it reads back), and a BMC that
   * echoes the password could plant it there.
   */
  private async guard<T extends { warnings: string[] }>(run: () => Promise<T>): Promise<T> {
    const secrets = this.auth.secrets;
    try {
      const out = await run();
      return { ...out, warnings: out.warnings.map((w) => redactText(w, secrets)) };
    } catch (e) {
      throw scrubbed(e, secrets);
    }
  }

  private async probeOnce(): Promise<ProbeOutcome> {
    const root = obj(await this.serviceRoot());
    const path = await this.system();
    const sys = await this.get(path);
    const info: Record<string, string> = { redfish_version: str(root['RedfishVersion']) ?? '', system_path: path };
    for (const [k, v] of [
      ['vendor', root['Vendor']],
      ['manufacturer', sys['Manufacturer']],
      ['model', sys['Model']],
      ['uuid', sys['UUID']],
    ] as const) {
      const s = str(v);
      if (s) info[k] = redactText(s, this.auth.secrets).slice(0, 200);
    }
    return { power: powerStateOf(sys), info, warnings: [] };
  }

  private async identityOnce(): Promise<IdentityOutcome> {
    const path = await this.system();
    const sys = await this.get(path);
    const { uuid, serial } = systemIds(sys);
    const warnings: string[] = [];
    const sources = [...(uuid ? [`uuid: Redfish ${path} UUID`] : []), ...(serial ? [`serial: Redfish ${path} SerialNumber`] : [])];
    const macs: string[] = [];
    const eth = odataId(sys['EthernetInterfaces']);
    if (!eth) warnings.push(`${this.where}: ${path} lists no EthernetInterfaces: no MACs`);
    else {
      for (const m of nicMembers(await this.get(eth))) {
        const mac = nicMac(await this.get(m));
        if (mac) macs.push(mac);
      }
      if (macs.length) sources.push(`macs: Redfish ${eth}`);
    }
    return { uuid, serial, macs, sources, warnings };
  }

  private async powerOnce(action: PowerAction): Promise<PowerOutcome> {
    const path = await this.system();
    const sys = await this.get(path);
    const state = powerStateOf(sys);
    const { softOffTimeoutMs, pollMs } = this.deps.timings;
    const plan = resetPlan(action, state, await this.resetTypes(sys));
    if ('refused' in plan) throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: ${plan.refused}`);
    const warnings = [...plan.warnings];
    const forcedWaitMs = this.deps.timings.transitionTimeoutMs;
    const waitOff = (ms: number) => waitForPower(() => this.readPower(), 'off', ms, pollMs, this.deps.sleep);
    for (const step of plan.steps) {
      if (step.kind === 'reset') await this.reset(sys, step.type);
      else if (step.kind === 'wait-off') {
        if ((await waitOff(forcedWaitMs)) !== 'off')
          throw ccError('CC_ERR_BMC_TIMEOUT', `${this.where}: the system did not report Off after ForceOff`);
      } else if ((await waitOff(softOffTimeoutMs)) !== 'off') {
        const after = `the OS did not shut down within ${Math.round(softOffTimeoutMs / 1000)} s`;
        if (!step.then) throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: ${after}, and the BMC offers no ForceOff`);
        warnings.push(`${after}: forced off`);
        await this.reset(sys, step.then);
        if ((await waitOff(forcedWaitMs)) !== 'off')
          throw ccError('CC_ERR_BMC_TIMEOUT', `${this.where}: the system did not report Off after ForceOff`);
      }
    }
    if (action === 'on' || ((action === 'cycle' || action === 'reset') && state === 'on')) {
      // A Reset is asynchronous (DSP0266: the service may answer before the power changed; sushy-tools and many
      // BMCs report Off for a moment after On), and restarts pass through Off: report the machine on, not mid-way.
      const s = await waitForPower(() => this.readPower(), 'on', forcedWaitMs, pollMs, this.deps.sleep);
      if (s !== 'on') warnings.push(`the machine has not reported power on ${Math.round(forcedWaitMs / 1000)} s after the ${action}`);
      return { power: s, warnings };
    }
    return { power: action === 'status' ? state : await this.readPower(), warnings };
  }

  private async bootOnce(req: BootRequest): Promise<{ warnings: string[] }> {
    const path = await this.system();
    const sys = await this.get(path);
    const patch = bootPatch(req, obj(sys['Boot']));
    if ('refused' in patch) throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: ${patch.refused}`);
    const etag = typeof sys['@odata.etag'] === 'string' ? sys['@odata.etag'] : undefined;
    // DSP0266 9.5.4: a service may require If-Match on PATCH; send the ETag we read when there is one.
    await this.call({ method: 'PATCH', path, body: { Boot: patch.boot }, headers: etag ? { 'if-match': etag } : {} });
    const check = checkBootReadBack(patch.boot, obj((await this.get(path))['Boot']));
    if ('refused' in check) throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: ${check.refused}`);
    return { warnings: [...patch.warnings, ...check.warnings] };
  }

  async close(): Promise<void> {
    await this.auth.close();
  }
}
