/**
 * iPXE has no arithmetic in the 2019 builds Debian ships, so retries are
 * written as a small state machine over one setting. A failing command without
 * `||` would abort the whole script, hence the trailing `||` idiom.
 */

/** Lines that run `command` up to `tries` times with `delayS` between, then `goto error`. */
export function retryBlock(label: string, command: string, next: string, tries = 3, delayS = 3): string[] {
  const v = `cc-${label}-try`;
  const lines = [`:${label}`, `${command} && goto ${next} ||`, `echo Crashcart: ${label} failed (attempt \${${v}}), retrying`];
  lines.push(`iseq \${${v}} ${tries} && goto error ||`);
  for (let i = tries - 1; i >= 1; i--) lines.push(`iseq \${${v}} ${i} && set ${v} ${i + 1} && sleep ${delayS} && goto ${label} ||`);
  lines.push(`set ${v} 1`, `sleep ${delayS}`, `goto ${label}`);
  return lines;
}

/** The shared `:error` path: say what happened and where to look, then retry from the top. */
export function errorBlock(publicUrl: string): string[] {
  return [
    ':error',
    'echo Crashcart: boot failed. Check that this machine can reach',
    `echo   ${publicUrl} (the appliance log and the node's boot timeline show why).`,
    'echo Retrying from the start in 30 s...',
    'sleep 30',
    `chain --replace --autofree ${publicUrl}/boot.ipxe || reboot`,
  ];
}
