import type { MomentsHealth } from './moments-health.js';

export interface PollingFallbackOptions {
  /** The back-fill period, ms. */
  everyMs: number;
  health: MomentsHealth;
  /** One round of back-fills (moments and trigger changes). */
  backfill: () => void;
}

/**
 * Back-fills every `everyMs` while the live stream cannot be trusted alone: an SDK that reports no
 * connection state hides its reconnects and their gaps, and a subscription the engine refused is
 * not live until the config changes. A refusal is said (`degraded`, /readyz 503 with the reason)
 * while the moments still flow, a period late, instead of silently never arriving.
 */
export class PollingFallback {
  private readonly options: PollingFallbackOptions;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: PollingFallbackOptions) {
    this.options = options;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(this.options.backfill, this.options.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The subscriptions the engine refuses now, with its reasons (empty: every one is live). */
  refused(refused: ReadonlyMap<string, string>): void {
    if (refused.size === 0) {
      this.options.health.setDegraded(undefined);
      this.stop();
      return;
    }
    const reason = [...refused].map(([operation, error]) => `${operation} refused (${error})`).join('; ');
    this.options.health.setDegraded(`${reason} — polling with a back-fill every ${this.options.everyMs} ms until the config is fixed`);
    this.start();
  }
}
