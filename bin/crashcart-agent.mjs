#!/usr/bin/env node
// `crashcart-agent`: the discovery agent (sources in a checkout, the esbuild bundle otherwise; see launch.mjs).
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { launch } from './launch.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await launch(path.join(root, 'build', 'out', 'agent', 'crashcart-agent.mjs'), path.join(root, 'agent', 'main.ts'));
