import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      // graphql 16 has no "exports" map: Node (and so Yoga and Pothos) loads its
      // CommonJS main, while Vite would pick the ESM "module" build for our
      // sources, giving two graphql realms. Point Vite at the one Node uses.
      { find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
