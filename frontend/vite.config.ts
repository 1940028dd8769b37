/**
 * The login page bundle (built by frontend/build.mjs, which `npm run build` and the test setup
 * run). Served by the service at /auth/login and /auth/assets/* (src/http/static-bundle.ts), so
 * the base is /auth/ and asset names carry a content hash (they are cached as immutable).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const NODE = process.env.MERO_AUTH_DEV_NODE ?? 'http://127.0.0.1:3001';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/auth/',
  publicDir: 'public',
  build: {
    outDir: fileURLToPath(new URL('../dist/frontend', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // One chunk, no preload helpers; nothing inline (the page CSP allows no inline script or style).
    modulePreload: false,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    reportCompressedSize: false,
    sourcemap: false,
  },
  // `npx vite frontend`: the page at http://localhost:5173/auth/, its API calls sent to a node.
  server: {
    proxy: {
      '^/auth/(token|refresh|logout|providers|validate|passkey/options)$': NODE,
      '/admin': NODE,
    },
  },
});
