/**
 * The serve log: one line per entry, the entry's fields as JSON. Those fields may carry rack text (a hook
 * script's output, a BMC's message), and the log is read on a terminal: no control character reaches it raw,
 * DEL and C1 included (JSON.stringify escapes only C0), and the JSON still reads back as the same fields.
 */
import { describe, expect, it } from 'vitest';
import { consoleLogger } from '../../server/core/console-logger.ts';

describe('consoleLogger', () => {
  it('writes the fields with DEL and C1 as \\u escapes; the JSON is the same value', () => {
    const lines: string[] = [];
    const log = consoleLogger('info', (l) => lines.push(l));
    const fields = { hook: 'h\u009d0;pwned\u009c', stderr: 'node web1\u009b2J\u007f\u001b]52;c;eA==\u0007', n: 3 };
    log.warn({ ...fields, err: new Error('bmc said \u0085\u009b31m') }, 'hook delivery failed');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    // eslint-disable-next-line no-control-regex
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toMatch(/^\S+ WARN {2}hook delivery failed \{/);
    const json = line.slice(line.indexOf('{'));
    expect(JSON.parse(json)).toEqual({ ...fields, err: 'bmc said \u0085\u009b31m' });
  });
});
