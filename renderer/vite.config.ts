/** Vite build of the operator UI; the admin plane serves renderer/dist at `/`. */
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: {
    // `npx vite --config renderer/vite.config.ts` proxies the API to a running appliance.
    proxy: { '/api': process.env.CRASHCART_ADMIN_URL ?? 'http://127.0.0.1:8027' },
  },
});
