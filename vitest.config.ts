import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@pxsim/source'] },
  ssr: { resolve: { conditions: ['@pxsim/source'] } },
  test: {
    projects: ['packages/*'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
