/**
 * The benches measure Crashcart as it ships. The Electron app and the .deb run `dist/crashcart.mjs`, the esbuild
 * bundle build/build.mjs makes, while `bin/crashcart.mjs` in a source checkout runs the TypeScript through tsx
 * (bin/launch.mjs). tsx compiles every file with esbuild's `keepNames`, which wraps each named function and closure
 * in a `__name()` call: an Object.defineProperty every time a closure is made, on the hot path too. In
 * bench/dhcp/in-process.ts the DHCP plugin cost 40.3-44.3 µs of CPU per DORA bundled and 44.0-55.0 through tsx; the
 * whole server 3-4 % (bench/dhcp/RESULTS-shipped.md). Small, but a bench measures what a user runs: it builds the
 * bundle of this checkout once at its start and starts every `serve` from it; `SOURCES_ENV` starts one from the
 * sources instead (the A/B row `crashcart-sources` of bench/dhcp).
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../server/boot/microkernel-assets.ts';
import { serveBundleOptions } from '../build/serve-bundle.mjs';

/** The bundle `serve` runs from in a package. */
export const SHIPPED_BUNDLE = path.join(REPO_ROOT, 'dist', 'crashcart.mjs');

/** Environment for a `bin/crashcart.mjs` child that runs the bundle (bin/launch.mjs's switch). */
export const SHIPPED_ENV: Readonly<Record<string, string>> = { CRASHCART_USE_DIST: '1' };
/** Environment for a child that runs the TypeScript sources through tsx, as a checkout does by default. */
export const SOURCES_ENV: Readonly<Record<string, string>> = { CRASHCART_USE_DIST: '0' };

/** How the results files name what ran. */
export const SHIPPED_NOTE =
  'Crashcart runs as shipped: `serve` from dist/crashcart.mjs, the bundle of this checkout built at the start of the run';

/**
 * Build dist/crashcart.mjs (and the native addons beside it) from this checkout, as `npm run build` does for a
 * package. Throws with the fix when the build fails. Prints one line: a bench's first seconds are this.
 */
export function buildShippedBundle(): void {
  process.stdout.write('building dist/crashcart.mjs from this checkout (build/build.mjs --core-only) ... ');
  try {
    // Under the build lock the tests and the package build take too: they write dist/ as well.
    execFileSync('flock', ['/tmp/cc-build.lock', process.execPath, path.join(REPO_ROOT, 'build', 'build.mjs'), '--core-only'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(
      `could not build the bundle the bench runs: ${String(err.stderr ?? err.stdout ?? e).trim()}\n` +
        '  fix: run `node build/build.mjs --core-only` and mend what it reports (a C compiler is needed for the addons: apt-get install gcc libc6-dev)',
    );
  }
  process.stdout.write(`${(statSync(SHIPPED_BUNDLE).size / 1024).toFixed(0)} KiB\n`);
}

/** Set in a bench script that runs from its bundle (runBundled). */
const BUNDLED_FLAG = 'CC_BENCH_BUNDLED';

/** True in the bundled copy runBundled started. */
export function runningBundled(): boolean {
  return process.env[BUNDLED_FLAG] === '1';
}

/**
 * Run the bench script `entry` as the shipped code runs: bundled with the options build/build.mjs bundles serve with
 * (build/serve-bundle.mjs: no keepNames), into build/out/bench/ (inside the checkout, so the code finds the repository as it does from dist/),
 * then in a child node with `args`. Resolves to the child's exit code. For benches that load server modules
 * in their own process (bench/dhcp/in-process.ts).
 */
export async function runBundled(entry: string, args: readonly string[]): Promise<number> {
  const { build } = await import('esbuild');
  const out = path.join(REPO_ROOT, 'build', 'out', 'bench', `${path.basename(entry, '.ts')}.mjs`);
  await build({ ...serveBundleOptions, entryPoints: [entry], outfile: out, external: [...serveBundleOptions.external, 'esbuild'] });
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [out, ...args], { stdio: 'inherit', env: { ...process.env, [BUNDLED_FLAG]: '1' } });
  return r.status ?? 1;
}
