#!/usr/bin/env node
// Run a TypeScript entry point of this repo through tsx: `node bin/run-ts.mjs bench/x.ts args...`.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [, , entry, ...rest] = process.argv;
if (!entry) {
  console.error('usage: node bin/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
const { register } = await import('tsx/esm/api');
register();
await import(pathToFileURL(path.resolve(entry)).href);
