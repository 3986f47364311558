/**
 * Secrets at rest: what a service holds to seal and open write-only fields
 * (BMC passwords today). Built once from the data dir and passed down; no
 * module-level key. Every secret is bound to the record it belongs to, so the
 * store never holds a ciphertext that could be moved to another node.
 */
import { loadKeyRing, type KeyRing } from './key-file.ts';
import { open, parseEnvelope, seal } from './envelope.ts';
import { ccError } from '../errors/cc-error.ts';

/** The record a secret belongs to, e.g. `secretRecord('node', 12, 'bmc.password')` -> `node/12/bmc.password`. */
export function secretRecord(collection: string, id: string | number, field: string): string {
  const parts = [collection, String(id), field];
  if (parts.some((p) => p === '' || p.includes('/'))) throw new RangeError(`bad secret record ${parts.join('/')}`);
  return parts.join('/');
}

/** Seals and opens secrets with the data dir's key ring. */
export class SecretBox {
  private constructor(private ring: KeyRing) {}

  /** Open (or create on first use) the key ring of `dataDir`. */
  static async open(dataDir: string): Promise<SecretBox> {
    return new SecretBox(await loadKeyRing(dataDir));
  }

  /** True when the key file was readable by others and was just tightened to 0600 (worth a warning). */
  get keyFileWasLoose(): boolean {
    return this.ring.tightened;
  }

  /** Seal a secret for one record with the current key. */
  seal(plaintext: string, record: string): string {
    return seal(this.key(this.ring.current), this.ring.current, plaintext, record);
  }

  /** Open a secret sealed for `record`; CC_ERR_SECRET_UNREADABLE if the key, the bytes or the record differ. */
  open(envelope: string, record: string): string {
    return open(this.key(parseEnvelope(envelope).keyId), envelope, record);
  }

  /** Key id an envelope was sealed with (to re-seal after a rotation, or to know which keys are still used). */
  keyIdOf(envelope: string): string {
    return parseEnvelope(envelope).keyId;
  }

  /** Re-seal with the current key when an older one was used; returns the envelope unchanged otherwise. */
  reseal(envelope: string, record: string): string {
    return this.keyIdOf(envelope) === this.ring.current ? envelope : this.seal(this.open(envelope, record), record);
  }

  private key(id: string): Buffer {
    const k = this.ring.keys.get(id);
    if (!k) throw ccError('CC_ERR_SECRET_UNREADABLE', `sealed with key ${id}, which the key ring does not hold`);
    return k;
  }
}
