/**
 * The only ways text enters a boot script or an answer file (docs/identity.md 4). Pure.
 *
 * iPXE gives meaning to `${...}` (setting expansion), `||` and `&&` (chaining), whitespace (argument
 * and kernel-argument boundaries) and line ends; shells, YAML and kickstart add quotes, `;`, `#`, `:`
 * followed by a space and more. Rather than escape for each, node text is cut down to characters that
 * mean nothing in any of them.
 */

/** Longest node value written into a script: far beyond any serial, MAC, UUID or hostname. */
export const MAX_BOOT_VALUE = 256;

/**
 * A value (serial, product, fact, hostname) for any script or answer file: letters, digits and `. _ : -`
 * are kept, every other character becomes `_`. MACs, UUIDs, IPv4 addresses, hostnames and tag names
 * pass unchanged.
 */
export function bootValue(text: string): string {
  return text.slice(0, MAX_BOOT_VALUE).replace(/[^A-Za-z0-9._:-]/g, '_');
}

/**
 * Text for an iPXE `echo` line (a word or a phrase, spaces allowed): anything iPXE could read as syntax
 * (`$`, `|`, `&`, `#`, line ends, quotes, backslash) becomes `?`.
 */
export function ipxeText(text: string): string {
  return text.slice(0, MAX_BOOT_VALUE).replace(/[^A-Za-z0-9 ._,:/+=@()-]/g, '?');
}
