/** Pure helpers of the policy form: SSH key checks per line, metadata rows to an object, task field values. */
import { checkSshKey, sshKeyLines } from '../../../contract/ssh-key.ts';
import type { TaskField } from '../../../contract/admin.ts';

/** One pasted key line and what is wrong with it, if anything. */
export interface KeyCheck {
  line: string;
  ok: boolean;
  /** The key type and comment when good; the reason when not. */
  note: string;
}

/** Check every key line of the text area (blank lines and # comments skipped). */
export function checkKeyText(text: string): KeyCheck[] {
  return sshKeyLines(text).map((line) => {
    const r = checkSshKey(line);
    return r.ok
      ? { line, ok: true, note: `${r.type}${r.bits ? ` ${r.bits} bits` : ''}${r.comment ? ` · ${r.comment}` : ''}` }
      : { line, ok: false, note: r.reason };
  });
}

/** Metadata rows to the object the API takes; blank keys are dropped, a repeated key is reported. */
export function rowsToMetadata(rows: { key: string; value: string }[]): { metadata: Record<string, string>; problem: string | null } {
  const metadata: Record<string, string> = {};
  for (const r of rows) {
    const k = r.key.trim();
    if (!k) continue;
    if (k in metadata) return { metadata, problem: `metadata key "${k}" is there twice` };
    metadata[k] = r.value;
  }
  return { metadata, problem: null };
}

/**
 * What is wrong with a task field's value, or null (the server checks again on save). `supplied`: required
 * fields the chosen image stands in for (an image with an RPM repository of its own supplies repo_url).
 */
export function fieldProblem(f: TaskField, value: string, supplied: readonly string[] = []): string | null {
  const v = value.trim();
  if (!v) return f.required && !supplied.includes(f.key) ? `${f.label} is required by this task` : null;
  if (f.kind === 'url' && !/^(https?|ftp|nfs):\/\/[^\s]+$/.test(v)) return `${f.label}: not a URL (http://, https://, ftp:// or nfs://)`;
  return null;
}
