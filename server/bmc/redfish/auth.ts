/**
 * Redfish authentication (DSP0266 13.3): a session when the service offers
 * one (POST the credentials to the Sessions collection named in the service
 * root's `Links.Sessions`, then send `X-Auth-Token`; DELETE the session when
 * done so the BMC's small session table does not fill up), else HTTP Basic.
 */
import { ccError } from '../../errors/cc-error.ts';
import type { RedfishHttp } from './http-client.ts';
import { answerError, credentialForms, obj, odataId, ok, str } from './answers.ts';

/** Which authentication to use: `auto` = a session when the service root offers one, else basic. */
export type RedfishAuthMode = 'auto' | 'session' | 'basic';

/** Credentials for one driver's exchanges. */
export class RedfishAuth {
  private session: { token: string; location: string } | null = null;
  private basic = false;
  /** Every form in which these credentials are sent: cut out of whatever BMC text is quoted. */
  readonly secrets: readonly string[];

  constructor(
    private readonly http: RedfishHttp,
    private readonly where: string,
    private readonly username: string,
    private readonly password: string,
    private readonly mode: RedfishAuthMode,
  ) {
    this.secrets = credentialForms(username, password);
  }

  /** The headers that authenticate a request, creating the session on first use. */
  async headers(serviceRoot: () => Promise<unknown>): Promise<Record<string, string>> {
    if (this.session) return { 'x-auth-token': this.session.token };
    if (this.basic || this.mode === 'basic') return this.basicHeader();
    const sessions = odataId(obj(obj(await serviceRoot())['Links'])['Sessions']);
    if (!sessions) {
      if (this.mode === 'session') throw ccError('CC_ERR_BMC_REFUSED', `${this.where}: the service root names no Sessions collection`);
      this.basic = true;
      return this.basicHeader();
    }
    const a = await this.http.request({ method: 'POST', path: sessions, body: { UserName: this.username, Password: this.password } });
    const token = a.headers['x-auth-token'];
    if (ok(a) && typeof token === 'string' && token !== '') {
      const location = a.headers.location ?? odataId(a.json) ?? str(obj(a.json)['@odata.id']);
      // DSP0266 13.3.4: Location is the session's URI; keep only its path so DELETE goes to this BMC.
      const path = location ? new URL(location, 'https://bmc.invalid').pathname : '';
      this.session = { token, location: path.startsWith('/redfish/') ? path : '' };
      return { 'x-auth-token': token };
    }
    if (a.status === 401 || a.status === 403) throw answerError(a, this.where, `POST ${sessions}`, this.secrets);
    if (this.mode === 'session') throw answerError(a, this.where, `POST ${sessions}`, this.secrets);
    // Sessions advertised but not usable (404/405/501 on some firmware): fall back to basic, as Ironic's sushy does.
    this.basic = true;
    return this.basicHeader();
  }

  /** Delete the session, if one was made; errors are ignored (the BMC expires it anyway). */
  async close(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (!s?.location) return;
    try {
      await this.http.request({ method: 'DELETE', path: s.location, headers: { 'x-auth-token': s.token } });
    } catch {
      // A BMC that went away takes its sessions with it.
    }
  }

  private basicHeader(): Record<string, string> {
    return { authorization: `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}` };
  }
}
