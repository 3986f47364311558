/**
 * Which architectures this appliance can discover, one row each (issue 16: "doctor says which architectures
 * are ready"). A machine is discovered when its firmware gets a first-stage loader and that loader can then
 * boot the microkernel of the machine's architecture, so an architecture is ready when its microkernel is
 * usable and at least one of its chains has its loader. The loader and microkernel rows above carry the
 * verdicts and fixes; these rows summarise them, so a gap is counted once (status `info`, never `warn`/`fail`).
 */
import type { ReadinessRow } from '../../contract/readiness.ts';
import type { LoaderState } from '../prepare/inventory/loaders.ts';
import type { MicrokernelState } from '../prepare/inventory/microkernels.ts';
import type { MicrokernelArch } from '../prepare/layout.ts';

/** One way a machine of an architecture boots: the loader artifact it needs (server/prepare/loaders/registry.ts). */
interface Chain {
  label: string;
  loader: string;
}

/** The chains of each architecture, in the order machines are most often met (docs/boot.md's table). */
export const ARCH_CHAINS: Readonly<Record<MicrokernelArch, { label: string; chains: readonly Chain[] }>> = {
  amd64: {
    label: 'x86 machines',
    chains: [
      { label: 'BIOS iPXE', loader: 'ipxe-bios' },
      { label: 'UEFI iPXE and HTTP boot', loader: 'ipxe-efi-x64' },
      { label: 'Secure Boot shim/GRUB', loader: 'shim-grub-x64' },
    ],
  },
  arm64: {
    label: 'arm64 machines',
    chains: [{ label: 'UEFI and U-Boot shim/GRUB', loader: 'shim-grub-arm64' }],
  },
};

/** A microkernel that machines will get: present and not damaged (an unverified one still boots). */
const usable = (m: MicrokernelState) => m.status === 'verified' || m.status === 'unverified';

/** One row per architecture: ready, partly ready (some chains), or not ready and why. */
export function architectureRows(loaders: readonly LoaderState[], microkernels: readonly MicrokernelState[]): ReadinessRow[] {
  return microkernels.map((m): ReadinessRow => {
    const { label, chains } = ARCH_CHAINS[m.arch];
    const base = { id: `arch-${m.arch}`, group: 'microkernel' as const, label };
    const ready = chains.filter((c) => loaders.find((l) => l.name === c.loader)?.ready === true).map((c) => c.label);
    const missing = chains.filter((c) => !ready.includes(c.label)).map((c) => c.label);
    if (!usable(m))
      return { ...base, status: 'info', detail: `not ready: microkernel ${m.arch} ${m.status} (see its row); they cannot be discovered` };
    if (ready.length === 0)
      return { ...base, status: 'info', detail: `not ready: no loader for ${missing.join(', ')} (see the loader rows)` };
    if (missing.length > 0)
      return { ...base, status: 'info', detail: `partly ready: ${ready.join(', ')}; not ${missing.join(', ')} (see the loader rows)` };
    return { ...base, status: 'ok', detail: `ready: ${ready.join(', ')}` };
  });
}
