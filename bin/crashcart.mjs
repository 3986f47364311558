#!/usr/bin/env node
// `crashcart`: the appliance CLI (sources in a checkout, dist/crashcart.mjs in a packaged install; see launch.mjs).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launch } from './launch.mjs';
import { mainThreadGcForOneCpu } from './gc-threads.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// First, before anything runs: `serve` on one CPU starts again with the collector on its main thread.
mainThreadGcForOneCpu(root);
await launch(path.join(root, 'dist', 'crashcart.mjs'), path.join(root, 'server', 'cli', 'main.ts'));
