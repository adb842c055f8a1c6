// Builds the web console (web/) into dist/web/, which `rollcall serve --http` serves at `/`.
// In development `npx vite` serves the console with hot reload and forwards /api to a running
// `rollcall serve --http 127.0.0.1:8080`.
import { defineConfig } from 'vite';

const webRoot = decodeURIComponent(new URL('./web', import.meta.url).pathname);
const outDir = decodeURIComponent(new URL('./dist/web', import.meta.url).pathname);

export default defineConfig({
  root: webRoot,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', changeOrigin: false },
    },
  },
});
