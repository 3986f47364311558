// Types of build/serve-bundle.mjs (plain JavaScript: build/build.mjs runs without the TypeScript loader) for bench/shipped.ts.
import type { BuildOptions } from 'esbuild';
export declare const serveBundleOptions: Readonly<BuildOptions & { external: string[] }>;
