/**
 * `crashcart doctor [serve flags] [--image NAME ...]`: the readiness table for the configuration
 * `serve` would run with, each row with its fix; exit status 1 when the rack cannot be served.
 * When an appliance runs on the data dir, its own view is shown (its ports are its own).
 * `serve` prints the same table at start (`serveReadinessGate`).
 */
import type { Readiness } from '../../contract/readiness.ts';
import { loadServeConfig, type MachineView } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { CoreContext } from '../core/context.ts';
import { CcError, ccError } from '../errors/cc-error.ts';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';
import { HashCache } from '../prepare/inventory/hash-cache.ts';
import { gatherReadiness } from '../readiness/gather.ts';
import { realProbes } from '../readiness/probes.ts';
import { readinessTable } from '../readiness/table.ts';
import { listInterfaces } from '../system/interfaces.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { clientForHolder } from './data-dir-route.ts';

/** Errors of the NIC flags that doctor reports as a row instead of stopping. */
const NIC_ERRORS = new Set(['CC_ERR_IFACE_NOT_FOUND', 'CC_ERR_IFACE_NO_ADDRESS', 'CC_ERR_RANGE_INVALID']);
/** Flags that only make sense with a NIC: dropped when the NIC itself cannot be resolved. */
const NIC_FLAGS = new Set(['--iface', '--address', '--range', '--pool', '--dhcp']);

/** Split `--image NAME` (doctor's own flag) from the serve flags. */
function splitImages(argv: string[]): { images: string[]; rest: string[] } {
  const images: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--image') images.push(argv[++i] ?? '');
    else if (a.startsWith('--image=')) images.push(a.slice('--image='.length));
    else rest.push(a);
  }
  if (images.some((n) => !n)) throw ccError('CC_ERR_CONFIG_INVALID', '--image needs a NAME');
  return { images, rest };
}

/** The value of `--flag V` or `--flag=V` in argv (the last one wins, as parseArgs does). */
function flagValue(argv: string[], flag: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) v = argv[i + 1];
    else if (argv[i]!.startsWith(`${flag}=`)) v = argv[i]!.slice(flag.length + 1);
  }
  return v;
}

/** The DHCP mode `serve --iface` would run with these flags (config/network.ts: full with a range, else proxy). */
function intendedMode(argv: string[]): 'full' | 'proxy' | 'off' {
  const m = flagValue(argv, '--dhcp');
  if (m === 'full' || m === 'proxy' || m === 'off') return m;
  return flagValue(argv, '--range') ? 'full' : 'proxy';
}

/** The serve config, or (when the NIC flags do not resolve) the config without them plus the NIC error. */
function doctorConfig(argv: string[], machine: MachineView): { config: Config; nicError: { iface: string; error: CcError } | null } {
  try {
    return { config: loadServeConfig([...argv, '--lab', 'off'], machine), nicError: null };
  } catch (e) {
    if (!(e instanceof CcError) || !NIC_ERRORS.has(e.code)) throw e;
    const iface = flagValue(argv, '--iface') ?? '';
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (NIC_FLAGS.has(argv[i]!)) i++;
      else rest.push(argv[i]!);
    }
    return { config: loadServeConfig([...rest, '--lab', 'off'], machine), nicError: { iface, error: e } };
  }
}

/** The running appliance's own readiness, or null when nobody holds the data dir. */
async function fromRunningAppliance(dataDir: string): Promise<{ url: string; r: Readiness } | null> {
  try {
    const l = await lockDataDir(dataDir, 'crashcart doctor (probe)');
    await l.release();
    return null;
  } catch (e) {
    if (!(e instanceof CcError) || e.code !== 'CC_ERR_DATA_DIR_LOCKED') throw e;
    const client = await clientForHolder(dataDir, (e.details.holder as never) ?? null);
    if (!client) throw e;
    return { url: client.baseUrl, r: await client.call<Readiness>('GET', '/api/v1/readiness') };
  }
}

/** Run `doctor`; resolves with the exit status. */
export async function doctorCommand(argv: string[], machine: MachineView): Promise<number> {
  const { images, rest } = splitImages(argv);
  const { config, nicError } = doctorConfig(rest, machine);
  const running = await fromRunningAppliance(config.dataDir);
  if (running) {
    process.stdout.write(
      readinessTable(running.r, `Crashcart readiness, as the appliance running on ${config.dataDir} sees it (${running.url})`),
    );
    return running.r.ready ? 0 : 1;
  }
  const r = await gatherReadiness(config, {
    probes: realProbes,
    hashes: new HashCache(),
    root: REPO_ROOT,
    nicRequired: true,
    // Without a (resolvable) NIC the config says "off"; judge for the mode serve would run on the rack.
    mode: intendedMode(rest),
    nicError: nicError
      ? { iface: nicError.iface, error: { code: nicError.error.code, message: nicError.error.message, fix: nicError.error.fix } }
      : null,
    ports: 'probe',
    dhcpProbe: 'run',
    requiredImages: images,
    candidates: () =>
      listInterfaces()
        .filter((i) => !i.wireless)
        .map((i) => i.name),
  });
  process.stdout.write(readinessTable(r, `Crashcart readiness for ${config.dataDir}`));
  return r.ready ? 0 : 1;
}

/**
 * What `serve` runs with the data dir locked and before it binds anything: print the table and,
 * in full or proxy mode, refuse to start when a row failed. The DHCP service probes the link
 * itself before full mode goes live, so the probe row is not repeated here.
 */
export function serveReadinessGate(print: (text: string) => void): (ctx: CoreContext) => Promise<void> {
  return async (ctx) => {
    const c = ctx.config;
    const r = await gatherReadiness(c, {
      probes: realProbes,
      hashes: new HashCache(),
      root: REPO_ROOT,
      nicRequired: false,
      ports: 'probe',
      dhcpProbe: { skip: 'probed by the DHCP service before it goes live' },
    });
    print(readinessTable(r));
    // Ports and privileges are left to the binds themselves: they fail with their own codes
    // (CC_ERR_PORT_DENIED, CC_ERR_PORT_IN_USE), which Electron and scripts already act on.
    const failed = r.rows.filter((x) => x.status === 'fail' && x.id !== 'privileges' && !x.id.startsWith('port-'));
    if (failed.length > 0 && (r.mode === 'full' || r.mode === 'proxy'))
      throw ccError('CC_ERR_NOT_READY', `${c.dhcp} mode on ${c.iface}: ${failed.map((x) => `${x.label}: ${x.detail}`).join('; ')}`, {
        readiness: r,
      });
  };
}
