/** Entry point of `crashcart-agent` (tsx in development, the esbuild bundle in the microkernel). */
import { main } from './cli.ts';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(
      `crashcart-agent: internal error: ${(e as Error)?.stack ?? String(e)}\n  fix: run with --log-level debug and report it with the output of \`crashcart-agent collect DIR\`\n`,
    );
    process.exitCode = 1;
  },
);
