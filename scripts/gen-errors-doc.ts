/** Regenerate docs/errors.md from the error catalog: `node bin/run-ts.mjs scripts/gen-errors-doc.ts`. */
import fs from 'node:fs';
import path from 'node:path';
import { ERRORS } from '../server/errors/catalog.ts';
import { REPO_ROOT } from '../server/boot/microkernel-assets.ts';

/** The markdown of docs/errors.md. */
export function errorsDoc(): string {
  const rows = Object.entries(ERRORS).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.fix.replace(/\|/g, '\\|')} |`);
  return [
    '# Error codes',
    '',
    'Every error Crashcart reports carries a stable code, a message and the fix. The HTTP planes answer',
    '`{statusCode, code, error, message, fix}`; the CLI prints the code, the message and a `fix:` line.',
    'This page is generated from `server/errors/catalog.ts` (`node bin/run-ts.mjs scripts/gen-errors-doc.ts`);',
    'a test fails when the two differ.',
    '',
    '| code | HTTP | meaning | fix |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts', 'gen-errors-doc.ts')) {
  fs.writeFileSync(path.join(REPO_ROOT, 'docs', 'errors.md'), errorsDoc());
  process.stdout.write('docs/errors.md written\n');
}
