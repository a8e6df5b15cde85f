import { hostname } from 'node:os';
import type { RedisClient } from '../redis/redis-client.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { redactSecrets } from '../core/secret-redaction.js';
import type { PipelineObserver, RoutingNote } from '../pipeline/pipeline.js';
import type { AttemptReport } from '../queue/delivery-worker.js';
import { TAP_DATA_LIMIT, TAP_POLL_MS, tapChannel, tapListeningKey, type TapAttempt, type TapEvent, type TapRecord } from './tap-record.js';

export interface TapPublisherOptions {
  /** The daemon's own connection (publishing needs no extra one). */
  redis: RedisClient;
  /** `redis.keyPrefix`. */
  keyPrefix: string;
  /** The connector's `retry.maxAttempts` now (a reload may change it), to tell a last attempt from a retry. */
  maxAttempts: (connector: string) => number | undefined;
  logger: Logger;
  /** How often to look for a listener. @defaultValue TAP_POLL_MS (1 s) */
  pollMs?: number;
}

/**
 * The daemon's side of `moments-bridge tap`: publishes routing decisions and attempt outcomes on
 * `<keyPrefix>:tap`, but only while a tap's listening key exists. Idle, it costs one GET per
 * poll and, per event or attempt, one boolean read: no record is built, serialized or sent.
 */
export class TapPublisher implements PipelineObserver {
  private listening = false;
  /** The listening key's value at the last poll: a new one means a new tap joined. */
  private joined: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly daemon = `${hostname()}:${process.pid}`;
  private readonly channel: string;
  private readonly key: string;

  constructor(private readonly o: TapPublisherOptions) {
    this.channel = tapChannel(o.keyPrefix);
    this.key = tapListeningKey(o.keyPrefix);
  }

  get active(): boolean {
    return this.listening;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.o.pollMs ?? TAP_POLL_MS);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listening = false;
  }

  routed(note: RoutingNote): void {
    if (!this.listening) return;
    const { event } = note;
    const record: TapEvent = {
      type: 'event',
      at: new Date().toISOString(),
      daemon: this.daemon,
      id: event.id,
      source: event.source,
      kind: event.kind,
      time: event.time,
      ...(event.summary?.title ? { title: event.summary.title } : {}),
      matched: note.matched,
      deliveries: note.deliveries.map((d) => ({ route: d.route, connector: d.connector })),
      ...(note.setAside.length
        ? {
            setAside: note.setAside.map((a) => ({
              reason: a.reason,
              detail: a.detail,
              ...(a.route ? { route: a.route } : {}),
              ...(a.connector ? { connector: a.connector } : {}),
            })),
          }
        : {}),
      data: boundedData(event.data),
    };
    this.publish(record);
  }

  /** For `onAttempt`. */
  attempt(report: AttemptReport): void {
    if (!this.listening) return;
    const { result } = report;
    const record: TapAttempt = {
      type: 'attempt',
      at: new Date().toISOString(),
      daemon: this.daemon,
      deliveryId: report.deliveryId,
      eventId: report.eventId,
      route: report.route,
      connector: report.connector,
      attempt: report.attempt,
      outcome: attemptOutcome(report, this.o.maxAttempts(report.connector)),
      ...(result.status === 'delivered' ? {} : { reason: result.reason }),
      latencyMs: report.latencyMs,
    };
    this.publish(record);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const joined = await this.o.redis.get(this.key);
      this.listening = joined !== null;
      if (joined !== null && joined !== this.joined) {
        this.o.logger.info({ component: 'tap', channel: this.channel }, `tap: a listener joined, publishing on ${this.channel}`);
        this.publish({ type: 'hello', at: new Date().toISOString(), daemon: this.daemon });
      }
      this.joined = joined;
    } catch (err) {
      // Redis away: nobody can listen either. The next poll finds out again.
      this.listening = false;
      this.joined = null;
      this.o.logger.debug({ component: 'tap', err: errorMessage(err) }, 'tap: could not check for listeners');
    } finally {
      this.polling = false;
    }
  }

  private publish(record: TapRecord): void {
    // The daemon knows every configured secret: redact here, so no listener ever receives one.
    this.o.redis.publish(this.channel, redactSecrets(JSON.stringify(record))).catch((err: unknown) => {
      this.o.logger.debug({ component: 'tap', err: errorMessage(err) }, 'tap: publish failed');
    });
  }
}

/**
 * As DeliveryWorker decides: a Retry-After spends no attempt; other retry results are a retry
 * unless this was the connector's last attempt. `retry.maxAge` is not known here, so a delivery
 * given up for its age shows as `retry` (its dead letter is in `dlq list`).
 */
function attemptOutcome(report: AttemptReport, maxAttempts: number | undefined): TapAttempt['outcome'] {
  const { result } = report;
  if (result.status === 'delivered') return 'delivered';
  if (result.status === 'permanent') return 'dead-lettered';
  if (result.retryAfterMs !== undefined && result.retryAfterMs >= 0) return 'rate-limited';
  return maxAttempts !== undefined && report.attempt >= maxAttempts ? 'dead-lettered' : 'retry';
}

function boundedData(data: unknown): unknown {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(data) ?? '');
  } catch {
    return { unserializable: true };
  }
  return size > TAP_DATA_LIMIT ? { truncated: size } : data;
}
