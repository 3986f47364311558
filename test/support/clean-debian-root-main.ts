/**
 * `node bin/run-ts.mjs test/support/clean-debian-root-main.ts`: run by scripts/ensure-test-deps.sh, builds
 * (once; instant when cached) the clean Debian 12 root test/package/deb-install.test.ts installs the package
 * into, for the Depends build/package-deb.mjs declares.
 */
import { buildCleanRoot, cleanRootRecipe, declaredDepends } from './clean-debian-root.ts';

const depends = declaredDepends();
const { tar } = cleanRootRecipe(depends);
try {
  buildCleanRoot(depends);
  process.stdout.write(`clean Debian 12 root (minbase + ${cleanRootRecipe(depends).include.join(', ')}): ${tar}\n`);
} catch (e) {
  process.stderr.write(`clean-debian-root: ${(e as Error).message}\n`);
  process.exit(1);
}
