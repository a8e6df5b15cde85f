import type { Logger } from '../../../core/log.js';
import { RateLimitedLog } from '../../../core/log-rate-limit.js';
import { counter } from '../../../core/metrics.js';
import type { MomentsRealtimeError } from '../moments-errors.js';

const protocolErrors = counter('mb_moments_realtime_protocol_errors_total', 'AppSync real-time protocol problems by kind', ['kind']);
const clamped = counter('mb_moments_realtime_clamped_values_total', 'Values from the AppSync real-time peer outside sane bounds, clamped', ['field']);

/**
 * How the real-time client reports what the peer did wrong: every problem counted in a metric,
 * logged through a rate limiter (one line per kind and 10 s, then a summary), so a peer flooding
 * the socket (or a reconnect loop) writes a few lines at any log level while the metric counts all.
 */
export class RealtimeProblems {
  private readonly log: RateLimitedLog;
  private readonly logger: Logger;
  private clampLogged = false;

  constructor(logger: Logger) {
    this.logger = logger;
    this.log = new RateLimitedLog(logger, { burst: 1, intervalMs: 10_000 });
  }

  /** A protocol problem that did not stop the client (malformed frame, refused subscription, …). */
  protocolError(kind: string, err: MomentsRealtimeError): void {
    protocolErrors.inc({ kind });
    this.log.warn(
      `moments realtime ${kind}`,
      { err: { code: err.code, message: err.message } },
      `${err.message} (every one is counted in mb_moments_realtime_protocol_errors_total{kind="${kind}"})`,
    );
  }

  oversizedMessage(limit: number): void {
    protocolErrors.inc({ kind: 'oversized_frame' });
    this.log.warn(
      'moments realtime oversized_frame',
      { limit },
      `Moments real-time: the server sent a message larger than ${limit} bytes (maxMessageBytes); dropped the connection and reconnecting (the back-fill recovers what it carried; raise maxMessageBytes if the engine sends such messages on purpose)`,
    );
  }

  keepAliveMissed(timeoutMs: number): void {
    protocolErrors.inc({ kind: 'keepalive_timeout' });
    this.log.warn('moments realtime keepalive_timeout', { timeoutMs }, `Moments real-time: no keep-alive within ${timeoutMs} ms, reconnecting`);
  }

  /** The peer's connectionTimeoutMs was replaced (see keepAliveTimeout): counted each time, logged once. */
  clampedTimeout(message: string): void {
    clamped.inc({ field: 'connectionTimeoutMs' });
    if (this.clampLogged) return;
    this.clampLogged = true;
    this.logger.warn(
      { field: 'connectionTimeoutMs' },
      `Moments real-time: the server's ${message} (logged once; counted in mb_moments_realtime_clamped_values_total)`,
    );
  }
}
