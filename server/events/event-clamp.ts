/**
 * The size of one event, bounded. Much of what an event says comes off the rack: a TFTP file name or a client's
 * ERROR text, the options a read request asked for, DHCP option 60 and 77, a URL's query, a node's facts. The
 * budgets (event-budget.ts) bound how many events the rack causes; this bounds how large each one is, so that the
 * budget also bounds the bytes. Before it, one 65,000-byte read request for a name of control bytes became a
 * 1.2 MB event line (JSON writes each as `\u0001`, and the name went in three times), and 12,000 of those a
 * minute fit the TFTP budget: 14 GB a minute into the ring's memory and `events.log`.
 *
 * A line over EVENT_LINE_MAX characters is rebuilt with every string cut (control characters and lone surrogates
 * as `?`, which JSON would write as six characters each; at most `cap` characters and a note of how many were
 * cut), and every array or record kept to its first entries, both going down CLAMP_STEPS until the line fits. The shape stays the contract's: the same keys, the same types. Events of the appliance's own making
 * are a few hundred characters, so this path runs only for rack input that is out of all proportion. Pure.
 */
import type { CcEvent } from '../../contract/index.ts';

/** Longest event line in characters (the longest line in the test suites' logs: 820). */
export const EVENT_LINE_MAX = 2048;

/** The string length and the entries of an array or record kept, tried in turn until the line fits. */
export const CLAMP_STEPS = [
  { text: 256, entries: 32 },
  { text: 64, entries: 16 },
  { text: 16, entries: 8 },
] as const;

type Step = (typeof CLAMP_STEPS)[number];

/** Characters JSON writes as an escape of six: the C0 controls, DEL (kept short for terminals) and lone surrogates. */
// eslint-disable-next-line no-control-regex -- the control characters are what it finds
const EXPANDING = /[\x00-\x1f\x7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` with expanding characters as `?`, at most `cap` characters and a note of what was cut. */
export function clampText(s: string, cap: number): string {
  const cut = s.length > cap ? s.slice(0, cap) : s;
  const clean = cut.replace(EXPANDING, '?');
  return s.length > cap ? `${clean}…(+${s.length - cap} chars)` : clean;
}

function clampValue(v: unknown, step: Step): unknown {
  if (typeof v === 'string') return clampText(v, step.text);
  if (Array.isArray(v)) return v.slice(0, step.entries).map((x) => clampValue(x, step));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, x] of Object.entries(v)) {
      if (n++ === step.entries) break;
      out[clampText(k, step.text)] = clampValue(x, step);
    }
    return out;
  }
  return v;
}

/** The event rebuilt to fit EVENT_LINE_MAX as well as the steps allow, with its line. */
export function clampEvent(ev: CcEvent): { ev: CcEvent; line: string } {
  let out = ev;
  let line = '';
  for (const step of CLAMP_STEPS) {
    out = {
      ...ev,
      mac: ev.mac === null ? null : clampText(ev.mac, step.text),
      message: clampText(ev.message, step.text),
      data: clampValue(ev.data, step),
    } as CcEvent;
    line = JSON.stringify(out);
    if (line.length <= EVENT_LINE_MAX) break;
  }
  return { ev: out, line };
}
