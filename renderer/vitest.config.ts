/**
 * Component tests need the Vue SFC plugin; the root vitest config has none yet, so this
 * config extends it (`npx vitest run --config renderer/vitest.config.ts renderer`).
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import base from '../vitest.config.ts';

export default mergeConfig(base, defineConfig({ root: fileURLToPath(new URL('..', import.meta.url)), plugins: [vue()] }));
