/**
 * Which appliance a CLI command talks to: `CRASHCART_URL` + `CRASHCART_TOKEN`
 * (+ `CRASHCART_FINGERPRINT` for HTTPS, the SHA-256 `crashcart serve` printed)
 * when set, else the appliance holding the data dir (its lock file names the
 * URL and certificate fingerprint, the token file the token).
 */
import { ccError, CcError } from '../../errors/cc-error.ts';
import { adminClient, type AdminClient, type Body } from '../admin-client.ts';
import { runningAppliance } from '../data-dir-route.ts';

/** The environment variables the CLI reads. */
export interface CliEnv {
  CRASHCART_URL?: string;
  CRASHCART_TOKEN?: string;
  CRASHCART_FINGERPRINT?: string;
}

/** A client whose connection failures say how to reach or start an appliance. */
function explained(c: AdminClient, viaEnv: boolean): AdminClient {
  if (!viaEnv) return c;
  const why = (e: unknown) =>
    e instanceof CcError && e.code === 'CC_ERR_NOT_RUNNING' ? ccError('CC_ERR_APPLIANCE_UNREACHABLE', e.message) : e;
  return {
    baseUrl: c.baseUrl,
    call: <T>(m: string, p: string, b?: Body) => c.call<T>(m, p, b).catch((e: unknown) => Promise.reject(why(e))),
    open: (p, h) => c.open(p, h).catch((e: unknown) => Promise.reject(why(e))),
  };
}

/** The client for this command line's appliance. */
export async function connect(env: CliEnv, dataDir: string): Promise<AdminClient> {
  if (env.CRASHCART_URL) {
    if (!env.CRASHCART_TOKEN)
      throw ccError('CC_ERR_CLI_USAGE', 'CRASHCART_URL is set but CRASHCART_TOKEN is not (`crashcart token` prints it)');
    let url: URL;
    try {
      url = new URL(env.CRASHCART_URL);
    } catch {
      throw ccError('CC_ERR_CLI_USAGE', `CRASHCART_URL "${env.CRASHCART_URL}" is not a URL`);
    }
    // Node prints fingerprints as upper-case hex pairs joined by colons; accept any case.
    const fp = env.CRASHCART_FINGERPRINT?.toUpperCase() ?? null;
    return explained(adminClient(url.origin, env.CRASHCART_TOKEN, fp), true);
  }
  return explained(await runningAppliance(dataDir), false);
}
