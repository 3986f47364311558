/**
 * Text for a terminal, pure: what rack text (a BMC's message, an agent's warning, a fact, a hook script's output) must
 * lose before it reaches the operator's terminal, through the CLI's output (server/cli/route/output-format.ts) or
 * the serve log (console-logger.ts). Here, below both, so the log does not import the CLI.
 */

// C0, DEL and C1 controls (ECMA-48): ESC and CSI start terminal escape sequences, and xterm and VTE act on the
// C1 forms (U+009B CSI, U+009D OSC) as they arrive in UTF-8.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `s` with every control character shown as `?`, so rack text cannot drive the terminal; `keepLayout` keeps tab,
 * CR and LF (the line structure of multi-line text, such as a CSV shown on a terminal).
 */
export function shownControls(s: string, keepLayout = false): string {
  return s.replace(CONTROLS, (c) => (keepLayout && (c === '\t' || c === '\r' || c === '\n') ? c : '?'));
}

// What JSON.stringify leaves raw of the controls: DEL and C1 (ECMA-262 QuoteJSONString escapes only U+0000-U+001F).
const JSON_RAW_CONTROLS = /[\u007f-\u009f]/g;

/**
 * JSON text (`JSON.stringify`'s output) with DEL and C1 written as `\u00XX` escapes too: the same JSON value, and
 * nothing in it a terminal acts on. These characters occur only inside JSON strings, where the escape is valid.
 */
export function terminalJson(json: string): string {
  return json.replace(JSON_RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
