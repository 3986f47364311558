/**
 * Text for a terminal, pure: what rack text (a BMC's message, an agent's warning, a fact, a hook script's output) must
 * lose before it reaches the operator's terminal, through the CLI's output (server/cli/route/output-format.ts) or
 * the serve log (console-logger.ts). Here, below both, so the log does not import the CLI.
 */

// C0, DEL and C1 controls (ECMA-48): ESC and CSI start terminal escape sequences, and xterm and VTE act on the
// C1 forms (U+009B CSI, U+009D OSC) as they arrive in UTF-8. Also LINE SEPARATOR and PARAGRAPH SEPARATOR: not
// controls, but line breaks to Unicode (UAX #14 class BK), as LF, CR and NEL (U+0085) are.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * How a line break in one-line text shows: as the JSON escape of it, so a message cannot start a line of its own
 * (a forged `fix:` line under an error) and the operator still sees that the rack sent a break.
 */
const SHOWN_BREAK: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\u0085': '\\u0085',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * `s` with every control character shown as `?` and every line break (LF, CR, NEL, U+2028, U+2029) as its escape
 * (`\n`, `\r`, `\u2028`, ...), so rack text can neither drive the terminal nor add a line; `keepLayout` keeps tab,
 * CR and LF (the line structure of multi-line text, such as a CSV shown on a terminal).
 */
export function shownControls(s: string, keepLayout = false): string {
  return s.replace(CONTROLS, (c) => (keepLayout && (c === '\t' || c === '\r' || c === '\n') ? c : (SHOWN_BREAK[c] ?? '?')));
}

// What JSON.stringify leaves raw of the controls and line breaks: DEL, C1 (NEL among them), U+2028 and U+2029
// (ECMA-262 QuoteJSONString escapes only U+0000-U+001F).
const JSON_RAW = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * JSON text (`JSON.stringify`'s output) with DEL, C1, U+2028 and U+2029 written as `\u00XX`/`\u20XX` escapes too:
 * the same JSON value, nothing in it a terminal acts on, and one line stays one line for a reader that splits on
 * every Unicode line break (Python's `splitlines`). These characters occur only inside JSON strings, where the
 * escape is valid.
 */
export function terminalJson(json: string): string {
  return json.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
