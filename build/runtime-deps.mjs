// The modules the core bundle loads at run time with require(): the native addon (`external` in build/serve-bundle.mjs)
// and nedb (server/store/nedb.ts), each with its production dependencies, resolved the way Node resolves them.
// A package carries exactly these next to the bundle (build/package-deb.mjs; the Electron app unpacks them
// from app.asar, electron-builder.yml asarUnpack).
import fs from 'node:fs';
import path from 'node:path';

/** What the bundle itself requires (the rest follows from their package.json files). */
export const BUNDLE_REQUIRES = Object.freeze(['sockopt', '@seald-io/nedb']);

/** The folder `name` resolves to from `fromDir` (walking up node_modules folders to `root`), or null. */
function resolveDep(root, name, fromDir) {
  for (let d = fromDir; d.startsWith(root); d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (d === root) break;
  }
  return null;
}

/** Every module folder the bundle needs at run time under `root` (a Set of absolute paths); throws with the fix. */
export function runtimeModules(root) {
  const found = new Set();
  (function walk(names, fromDir, optional) {
    for (const n of names) {
      const dir = resolveDep(root, n, fromDir);
      if (!dir) {
        if (optional.has(n)) continue;
        throw new Error(`${n} (needed by ${fromDir}) is not in node_modules\n  fix: npm ci`);
      }
      if (found.has(dir)) continue;
      found.add(dir);
      const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const opt = new Set(Object.keys(pj.optionalDependencies ?? {}));
      walk(Object.keys({ ...pj.dependencies, ...pj.optionalDependencies }), dir, opt);
    }
  })(BUNDLE_REQUIRES, root, new Set());
  return found;
}
