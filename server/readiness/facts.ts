/**
 * What readiness found, before any judgement: gathered by gather.ts (which touches the machine),
 * judged by evaluate.ts (pure). Tests build these by hand.
 */
import type { ForeignServer } from '../dhcp/probe.ts';
import type { ImageState } from '../prepare/inventory/images.ts';
import type { LoaderState } from '../prepare/inventory/loaders.ts';
import type { MicrokernelState } from '../prepare/inventory/microkernels.ts';
import type { Identity, LinkFacts, PortResult } from './probes.ts';

/** An error with its fix, as the catalog gives it. */
export interface FixedError {
  code: string;
  message: string;
  fix: string;
}

/** One port and what happened to it: probed by binding, or read from the running service. */
export interface PortFact {
  /** `port-67` etc. */
  id: string;
  label: string;
  proto: 'udp' | 'tcp';
  port: number;
  result: PortResult | 'serving' | 'not-running';
  /** The failed service's error, when the running appliance reports one. */
  error?: FixedError;
}

/** The foreign-server probe: heard something, was not run (and why), or could not run. */
export type DhcpProbeFact =
  | { kind: 'probed'; timeoutMs: number; servers: ForeignServer[]; overflow: number }
  | { kind: 'skipped'; why: string }
  | { kind: 'error'; error: FixedError };

/** Everything readiness judges. */
export interface ReadinessFacts {
  /** The DHCP mode checked for; `lab` when no NIC is chosen. */
  mode: 'full' | 'proxy' | 'off' | 'lab';
  /** True for `doctor`: without a NIC the rack cannot be served. False for `serve` in lab mode. */
  nicRequired: boolean;
  iface: string | null;
  /** The NIC could not be resolved (missing, no address): the config path's own error. */
  nicError: FixedError | null;
  /** The appliance's address on the NIC, `IP/PREFIX`. */
  address: string | null;
  link: LinkFacts | null;
  /** Interfaces to suggest when none is chosen. */
  candidates: string[];
  identity: Identity;
  /** The UDP ports the boot services need (to judge privileges when ports were not probed). */
  udpPorts: number[];
  /** Null when ports were not checked. */
  ports: PortFact[] | null;
  /** `--force`: full DHCP beside another server is the operator's decision. */
  force: boolean;
  dhcpProbe: DhcpProbeFact;
  loaders: LoaderState[];
  microkernels: MicrokernelState[];
  images: ImageState[];
  /** Images that must be there (`--image NAME`). */
  requiredImages: string[];
  disk: { dir: string; freeBytes: number | null };
}
