/**
 * A policy body as the operator sent it -> what is stored: the root password hashed (never kept as
 * given), a ready hash checked, SSH keys checked and normalised, the task's declared fields validated,
 * and the "nobody could log in" case refused unless confirmed (docs/policies.md).
 */
import type { PolicyInput, Task, TaskField } from '../../contract/index.ts';
import { checkSshKey } from '../../contract/ssh-key.ts';
import type { PolicyDoc } from '../store/docs.ts';
import { hashRootPassword } from './sha512-crypt.ts';
import { parseTemplate, TemplateError } from '../tasks/template.ts';
import { ccError } from '../errors/cc-error.ts';
import { rootDeviceHintsProblem } from '../deploy/deploy-job.ts';

/** What the policy service stores: the input without the write-only fields. */
export type StoredPolicyInput = Omit<PolicyInput, 'root_password' | 'confirm_unreachable'>;

/**
 * crypt(3) hashes Debian's libxcrypt, d-i, Anaconda and cloud-init accept: sha512-crypt, sha256-crypt,
 * yescrypt and bcrypt. The alphabet is crypt's own, so a hash can never break out of an answer file line.
 */
const CRYPT_HASH = [
  /^\$[56]\$(rounds=\d{1,9}\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43,86}$/,
  /^\$y\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{0,86}\$[./0-9A-Za-z]{43}$/,
  /^\$2[aby]\$\d{2}\$[./0-9A-Za-z]{53}$/,
];

/** True when `h` is a crypt(3) hash of a scheme the installers accept. */
export function isCryptHash(h: string): boolean {
  return CRYPT_HASH.some((re) => re.test(h));
}

/** A single line of printable text (a URL, a host name): no control characters (C0 or DEL). */
const oneLine = (v: string): boolean => ![...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Why a task field value is wrong, or null. */
function fieldProblem(f: TaskField, v: unknown, supplied: readonly string[]): string | null {
  if (v === undefined || v === null || v === '')
    return f.required && !supplied.includes(f.key) ? `${f.label} is required by the task` : null;
  if (typeof v !== 'string') return `${f.label} must be text`;
  if (v.length > 65536) return `${f.label} is longer than 64 KiB`;
  if (f.kind === 'url') {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      return `${f.label} "${v.slice(0, 80)}" is not a URL (e.g. http://mirror.example/path/)`;
    }
    if (!['http:', 'https:', 'ftp:', 'nfs:'].includes(u.protocol)) return `${f.label} must be an http, https, ftp or nfs URL`;
    if (!oneLine(v) || /\s/.test(v)) return `${f.label} must not contain spaces or line breaks`;
  } else if (f.kind === 'text') {
    if (!oneLine(v)) return `${f.label} must be one line`;
  } else {
    try {
      parseTemplate(v);
    } catch (e) {
      if (e instanceof TemplateError) return `${f.label}: ${e.message}`;
      throw e;
    }
  }
  return null;
}

/**
 * The metadata with every declared field checked (throws CC_ERR_POLICY_INVALID naming the field). `supplied`:
 * required fields the policy's image provides a default for (a Rocky image's own repository: repo_url).
 */
export function checkTaskFields(task: Task, metadata: Record<string, unknown>, supplied: readonly string[] = []): void {
  const problems = task.fields.map((f) => fieldProblem(f, metadata[f.key], supplied)).filter((p): p is string => p !== null);
  if (problems.length) throw ccError('CC_ERR_POLICY_INVALID', `task ${task.name}: ${problems.join('; ')}`);
}

/** The keys checked and normalised, duplicates dropped; throws naming the first bad key. */
export function checkSshKeys(keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const [i, k] of keys.entries()) {
    const r = checkSshKey(k);
    if (!r.ok) throw ccError('CC_ERR_POLICY_INVALID', `ssh_keys[${i}]: ${r.reason}`);
    if (!out.some((o) => o.split(' ')[1] === r.key.split(' ')[1])) out.push(r.key);
  }
  return out;
}

/** True when a policy with this task and these credentials yields machines nobody can log in to. */
export function isUnreachable(task: Pick<Task, 'login'> | undefined, hash: string | null, keys: readonly string[]): boolean {
  return Boolean(task?.login) && !hash && keys.length === 0;
}

/**
 * Turn a create/update body into what is stored, given the stored policy (`old`, on update) and its
 * task. The password is hashed here, so nothing after this point ever sees it.
 */
export function preparePolicyInput(
  input: PolicyInput,
  old: PolicyDoc | undefined,
  task: Task | undefined,
  supplied: readonly string[] = [],
): StoredPolicyInput {
  const { root_password: password, confirm_unreachable: confirmed, ...rest } = input;
  if (password !== undefined && input.root_password_hash !== undefined)
    throw ccError('CC_ERR_POLICY_INVALID', 'give root_password or root_password_hash, not both');
  if (typeof input.root_password_hash === 'string' && !isCryptHash(input.root_password_hash))
    throw ccError(
      'CC_ERR_POLICY_INVALID',
      'root_password_hash is not a crypt(3) hash ($6$..., $5$..., $y$..., $2b$...); send root_password to have it hashed here',
    );
  if (password !== undefined && /[\r\n\0]/.test(password))
    throw ccError('CC_ERR_POLICY_INVALID', 'root_password must not contain line breaks or NUL');
  const out: StoredPolicyInput = { ...rest };
  if (password !== undefined) out.root_password_hash = hashRootPassword(password);
  if (input.ssh_keys !== undefined) out.ssh_keys = checkSshKeys(input.ssh_keys);
  const metadata = input.metadata ?? old?.metadata ?? {};
  if (task) checkTaskFields(task, metadata, supplied);
  // The deploy task's root device hints are refused now, not when a machine is deployed with them.
  const hints = rootDeviceHintsProblem(metadata['root_device']);
  if (hints) throw ccError('CC_ERR_POLICY_INVALID', hints);
  const hash = out.root_password_hash === undefined ? (old?.root_password_hash ?? null) : out.root_password_hash;
  const keys = out.ssh_keys ?? old?.ssh_keys ?? [];
  if (isUnreachable(task, hash, keys) && !confirmed)
    throw ccError(
      'CC_ERR_POLICY_UNREACHABLE',
      `task ${task!.name} installs an OS, and policy "${input.name}" gives it no SSH key and no root password: root stays locked`,
    );
  return out;
}
