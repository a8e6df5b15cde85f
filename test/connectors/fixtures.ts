import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { ConnectorContext, Delivery } from '../../connectors/connector.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { createLogger, silentLogger, type Logger } from '../../src/core/log.js';
import { momentSummary } from '../../src/sources/moments/moment-event.js';
import type { MomentEventData } from '../../src/sources/moments/moments-schemas.js';
import { observerRowSummary } from '../../src/sources/observer/row-summary.js';

/**
 * An event with the summary its source fills in (moments: momentSummary, Observer rows:
 * observerRowSummary), recomputed from its data — for fixtures and for variants built by spreading one.
 */
export function withSummary(event: BridgeEvent): BridgeEvent {
  const { summary: _stale, ...bare } = event;
  if (event.kind === 'moment') return { ...bare, summary: momentSummary(event.source, event.time, event.data as MomentEventData) };
  if (event.kind === 'observer.row') return { ...bare, summary: observerRowSummary(bare) };
  return bare;
}

/** A moment as the moments source emits it (PRODUCT.md §3–4). */
export const momentEvent: BridgeEvent = withSummary({
  id: 'moments:moment:m-1001',
  source: 'moments',
  kind: 'moment',
  time: '2025-06-01T12:00:05.000Z',
  data: {
    publicId: 'm-1001',
    triggerPublicId: 't-hr170',
    clientId: 'club-a',
    athleteId: 'ath-7',
    eventId: 42,
    triggerName: 'HR > 170',
    triggerMarker: 'red',
    moment: 'Athlete ath-7 heart rate 182 bpm',
    matches: [
      { metric: 'heartrate', subMetric: 'bpm', value: 182 },
      { metric: 'speed', subMetric: 'kmh', value: 27.456 },
    ],
    createdAt: '2025-06-01T12:00:05.000Z',
  },
});

/** An Observer call-snapshot row, as the Observer source emits it. */
export const observerRowEvent: BridgeEvent = withSummary({
  id: 'calls:observer.row:call-9:17',
  source: 'calls',
  kind: 'observer.row',
  time: '2025-06-01T12:01:00.000Z',
  data: { callId: 'call-9', roomId: 'standup', clientsCount: 3, avgRttMs: 41.5, packetLossPct: 0.2 },
});

export function delivery<T>(payload: T, event: BridgeEvent = momentEvent, id = `d-${event.id}`): Delivery<T> {
  return { id, event, route: 'r1', connector: 'c1', payload, attempt: 1 };
}

export function connectorContext(redis: Redis, overrides: Partial<ConnectorContext> = {}): ConnectorContext {
  return { name: 'c1', redis, keyPrefix: 'mb:', logger: silentLogger(), configDir: process.cwd(), ...overrides };
}

/** A real pino logger (with secret redaction) writing into memory, at trace level. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level: 'trace', format: 'json', destination }), lines };
}

export const noSignal = (): AbortSignal => new AbortController().signal;
