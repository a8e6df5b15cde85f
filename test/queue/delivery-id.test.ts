import { describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/queue/delivery-id.js';

/**
 * Known answers for the delivery id. It is the BullMQ job id, the dedup id and the idempotency key
 * sinks see (webhook-id, Kinesis envelope id via deterministicUuid): receivers dedupe on it across
 * our releases. CHANGING THESE VALUES BREAKS RECEIVERS' DEDUP ACROSS AN UPGRADE — an event in flight
 * during the upgrade would arrive twice under two ids. Never "fix" a vector to match new code.
 */
const VECTORS: [eventId: string, route: string, connector: string, id: string][] = [
  ['moments:moment:m-1001', 'r1', 'c1', 'a241a790794f936d990f6e0421938906'],
  ['moments:moment:m1', 'hook', 'hooks', '367e20a81611b3a3d6415f4da39126d5'],
  ['a:b', 'c', 'd', '4f83386cf3cf06f84cc157f4ab67e1b9'],
  ['a', 'b:c', 'd', '01e0dfc5bebb1306e02d6af7167c68e8'],
  ['', '', '', '96a296d224f285c67bee93c30f8a3091'],
];

describe('deliveryId known answers', () => {
  it.each(VECTORS)('(%j, %j, %j) → %s', (eventId, route, connector, id) => {
    expect(deliveryId(eventId, route, connector)).toBe(id);
  });
});
