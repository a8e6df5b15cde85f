import { describe, it } from 'vitest';
import { report } from './chaos-rig.js';
import { expectOneRecordPerEvent } from './expectations.js';
import { kinesisPartial } from './sink-scenarios.js';

describe('chaos 12: Kinesis PutRecords partial failures (ProvisionedThroughputExceededException)', () => {
  it('each event is in the stream exactly once, read back with the AWS SDK', async () => {
    const r = await kinesisPartial({ events: 600, perSecond: 150, faultAfterMs: 500, failEvery: 3, faultForMs: 2000, settleMs: 30_000 });
    report('kinesis-partial', r);
    expectOneRecordPerEvent(r);
  }, 90_000);
});
