import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@pxsim/source'] },
  ssr: { resolve: { conditions: ['@pxsim/source'] } },
  test: { name: 'membership', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
