import { createHash } from 'node:crypto';

/**
 * The delivery id: hash(event id, route, connector), 32 hex characters (128 bits).
 * It is the BullMQ job id, the deduplication id and the sink's idempotency key, so the same
 * (event, route, connector) enqueued twice — replay, two replicas, back-fill overlap — is one job.
 * A NUL separator keeps `("a:b", "c")` and `("a", "b:c")` apart.
 */
export function deliveryId(eventId: string, route: string, connector: string): string {
  return createHash('sha256').update(`${eventId}\u0000${route}\u0000${connector}`).digest('hex').slice(0, 32);
}
