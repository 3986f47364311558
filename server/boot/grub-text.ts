/**
 * Text into a GRUB configuration (docs/identity.md 4). Pure.
 *
 * GRUB's script language gives meaning to `$` (expansion), `;` `|` `&` `<` `>` (command lists), `{` `}`,
 * `#` at a word start, quotes, backslash, whitespace and line ends. Inside single quotes nothing is
 * special and a single quote cannot occur, so every word the appliance writes is single-quoted, with `'`
 * written as `'\''` (GRUB's lexer joins adjacent quoted and escaped parts into one word, as sh does).
 * Node text is first cut down by the same whitelist as iPXE scripts (boot-text.ts).
 */
import { MAX_BOOT_VALUE, bootValue } from './boot-text.ts';

/** Characters no configuration line may carry: line ends and other controls would end or corrupt the line. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** One GRUB word holding `text` literally (appliance text: URLs, kernel arguments it built). */
export function grubWord(text: string): string {
  return `'${text.replace(CONTROL, ' ').replace(/'/g, `'\\''`)}'`;
}

/** A node value (serial, product, hostname, fact) as one literal GRUB word: whitelisted, then quoted. */
export function grubValue(text: string): string {
  return grubWord(bootValue(text));
}

/** Text for `echo` (a phrase): iPXE's echo alphabet plus spaces, one quoted word, never expanded. */
export function grubText(text: string): string {
  return grubWord(text.slice(0, MAX_BOOT_VALUE).replace(/[^A-Za-z0-9 ._,:/+=@()-]/g, '?'));
}
