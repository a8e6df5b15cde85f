import type { ChainableCommander } from 'ioredis';
import type { BridgeEvent } from '../core/event.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import { QUARANTINE_CAP, quarantinedCounter, quarantineKey } from '../quarantine/quarantine.js';
import type { QuarantinedItem } from '../sources/source.js';
import { safeSnapshot } from '../core/safe-snapshot.js';

/**
 * Why one item left the flow instead of stopping it:
 * - `unroutable`: routing the event threw (a value the router or a group/dedupe key cannot handle);
 * - `unrenderable`: one route's payload for one connector failed to render;
 * - `unserializable`: the event or payload cannot become a job (too deep, BigInt, circular, a throwing getter);
 * - `too_large`: the job is larger than the queue's `maxPayloadBytes`.
 */
export type SetAsideReason = 'unroutable' | 'unrenderable' | 'unserializable' | 'too_large';

/** An event (or one delivery of it) that cannot be queued as it is: quarantined with its reason. */
export interface SetAside {
  event: BridgeEvent;
  reason: SetAsideReason;
  /** What went wrong, for the operator. */
  detail: string;
  route?: string;
  connector?: string;
}

export const setAsideMetric = counter(
  'mb_pipeline_set_aside_total',
  'Events or deliveries taken out of a batch so the rest could go on, by reason (unroutable, unrenderable, unserializable, too_large) and where they went (quarantine, dead_letter).',
  ['source', 'reason', 'to'],
);

/** The quarantine entry of a set-aside item: the event as far as it can be stored, and where it failed. */
export function quarantineEntry(item: SetAside): QuarantinedItem {
  const where = [item.route && `route "${item.route}"`, item.connector && `connector "${item.connector}"`].filter(Boolean).join(', ');
  return {
    source: item.event.source,
    kind: item.event.kind,
    reason: `${item.reason}${where ? ` (${where})` : ''}: ${item.detail}`,
    raw: { event: safeSnapshot(item.event), ...(item.route ? { route: item.route } : {}), ...(item.connector ? { connector: item.connector } : {}) },
  };
}

/**
 * Queues the quarantine writes of `items` on `multi` (the same capped list sources quarantine
 * into, see src/quarantine.ts), logs and counts them. Unlike `quarantine()` a failed write is not
 * swallowed: the caller's batch fails with it, so the source keeps its cursor and nothing is lost.
 */
export function addQuarantineWrites(multi: ChainableCommander, keyPrefix: string, items: readonly SetAside[], logger: Logger): void {
  if (items.length === 0) return;
  const at = new Date().toISOString();
  const key = quarantineKey(keyPrefix);
  for (const item of items) {
    const entry = quarantineEntry(item);
    multi.lpush(key, JSON.stringify({ ...entry, at }));
    logger.warn(
      { source: entry.source, kind: entry.kind, eventId: item.event.id, route: item.route, connector: item.connector, reason: item.reason },
      `set aside ${item.event.id} so the rest of its batch could go on — ${entry.reason}; it is kept in ${key} (fix the cause, then replay it)`,
    );
  }
  multi.ltrim(key, 0, QUARANTINE_CAP - 1);
}

/** Counts quarantined items once their write succeeded. */
export function countQuarantined(items: readonly SetAside[]): void {
  for (const item of items) {
    setAsideMetric.inc({ source: item.event.source, reason: item.reason, to: 'quarantine' });
    quarantinedCounter.inc({ source: item.event.source, kind: item.event.kind });
  }
}
