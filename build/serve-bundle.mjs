// The esbuild options of the appliance bundle (dist/crashcart.mjs): build/build.mjs makes it with them, and a bench
// that bundles one of its own scripts to run it as the shipped code runs uses the same ones (bench/shipped.ts).
export const serveBundleOptions = Object.freeze({
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Native addon: loaded from node_modules at run time.
  external: ['sockopt'],
  banner: { js: "import { createRequire as __ccCreateRequire } from 'node:module'; const require = __ccCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
