/**
 * Change a running config: the Setup screen's "apply". The new config is the
 * current one with only the network choices replaced, resolved and validated
 * by the same functions as start-up, so no other setting (microkernel folder,
 * TFTP root, rate limit, log level, ports, admin and session settings) ever
 * returns to its default.
 */
import type { Config } from './schema.ts';
import { finalizeConfig } from './load.ts';
import { resolveNetwork, type MachineView, type NetworkInput } from './network.ts';

/** What an apply may change: the whole network group, as the Setup screen sends it. */
export interface ConfigPatch {
  network: NetworkInput & { iface: string };
}

/** The current config with `patch` applied, validated and frozen like a fresh start. */
export function patchConfig(current: Config, patch: ConfigPatch, machine: MachineView): Config {
  // The network group is replaced whole: an address or range the form leaves out means "none"
  // (the NIC's own address, no pool), exactly as the same flags left out at start-up.
  const net = resolveNetwork(patch.network, current.http.port, machine);
  return finalizeConfig({ ...structuredClone(current), ...net });
}
