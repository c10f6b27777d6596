import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
export default defineConfig({
  resolve: { alias: [{ find: /^.*\/model\/emotion-model\.js$/, replacement: fileURLToPath(new URL('./stub-model.ts', import.meta.url)) }] },
  test: { include: ['test/**/*.test.ts'], pool: 'forks', maxWorkers: 2, testTimeout: 30000, hookTimeout: 30000 },
});
