/**
 * The "Security:" section of `hdparm -I` (the ATA Security feature set, ACS-3 7.4 / IDENTIFY DEVICE word
 * 128): whether SECURITY ERASE UNIT can run now. A drive that is `frozen` (most BIOSes freeze drives at
 * boot, ACS-3 4.18.10) or `locked` refuses it; one with a user password `enabled` by someone else would
 * need that password. Pure; a drive without the section does not offer the feature set.
 */

/** What hdparm says about the ATA Security feature set. */
export interface AtaSecurity {
  supported: boolean;
  enabled: boolean;
  locked: boolean;
  frozen: boolean;
  enhanced: boolean;
  /** hdparm's estimate for the (enhanced) erase, minutes; null when the drive gives none. */
  eraseMinutes: number | null;
  enhancedMinutes: number | null;
}

/** Parse `hdparm -I` output; null when it has no Security section. */
export function parseHdparmSecurity(text: string): AtaSecurity | null {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^Security:\s*$/.test(l));
  if (start < 0) return null;
  const s: AtaSecurity = {
    supported: false,
    enabled: false,
    locked: false,
    frozen: false,
    enhanced: false,
    eraseMinutes: null,
    enhancedMinutes: null,
  };
  // The section's lines are indented; it ends at the next unindented line (e.g. "Logical Unit WWN", "Checksum").
  for (const line of lines.slice(start + 1)) {
    if (!/^\s/.test(line) || line.trim() === '') break;
    const m = /^\s*(not)?\s+(supported|enabled|locked|frozen)\s*$/.exec(line);
    if (m) s[m[2] as 'supported' | 'enabled' | 'locked' | 'frozen'] = m[1] !== 'not';
    if (/^\s*(not)?\s*supported: enhanced erase\s*$/.test(line)) s.enhanced = !/^\s*not/.test(line);
    const e = /(\d+)min for SECURITY ERASE UNIT/.exec(line);
    if (e) s.eraseMinutes = Number(e[1]);
    const x = /(\d+)min for ENHANCED SECURITY ERASE UNIT/.exec(line);
    if (x) s.enhancedMinutes = Number(x[1]);
  }
  return s;
}

/** Why SECURITY ERASE UNIT cannot run now, or null when it can. */
export function ataEraseRefusal(s: AtaSecurity | null): string | null {
  if (!s || !s.supported) return 'the drive does not offer the ATA Security feature set';
  if (s.frozen) return 'the drive is security-frozen (the firmware froze it at boot; a suspend/resume or hot-plug unfreezes it)';
  if (s.locked) return 'the drive is security-locked with a password Crashcart does not know';
  if (s.enabled) return 'the drive has a user password set by someone else';
  return null;
}
