/**
 * The erase capabilities of an NVMe controller from `nvme id-ctrl -o json` (NVMe Base 2.0, Identify
 * Controller): OACS bit 1 says Format NVM is supported; FNA bit 2 says a cryptographic erase is, bit 1 that
 * a secure erase covers every namespace. Pure; input is node text (a hostile drive can say anything).
 */

/** What a controller offers. */
export interface NvmeEraseCaps {
  format: boolean;
  cryptoErase: boolean;
  allNamespaces: boolean;
  model: string | null;
}

/** Parse `nvme id-ctrl DEV -o json`; null when it is not what nvme-cli prints. */
export function parseNvmeIdCtrl(json: string): NvmeEraseCaps | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['oacs'] !== 'number' || typeof o['fna'] !== 'number') return null;
  const oacs = o['oacs'];
  const fna = o['fna'];
  return {
    format: (oacs & 0x2) !== 0,
    cryptoErase: (fna & 0x4) !== 0,
    allNamespaces: (fna & 0x2) !== 0,
    model: typeof o['mn'] === 'string' ? o['mn'].trim().slice(0, 256) : null,
  };
}

/** The Secure Erase Settings value for Format NVM: 2 = cryptographic erase when offered, else 1 = user data erase. */
export function nvmeSes(c: NvmeEraseCaps): 1 | 2 {
  return c.cryptoErase ? 2 : 1;
}
