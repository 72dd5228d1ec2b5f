import { describe, it } from 'vitest';
import { runSafetyShard, SHARD_SCHEDULES } from './safety.js';

describe('safe mode keeps S1, S2, S3 and L1 under random schedules (shard 2 of 2)', () => {
  it(`passes ${SHARD_SCHEDULES} random schedules`, async () => runSafetyShard(2), 3_600_000);
});
