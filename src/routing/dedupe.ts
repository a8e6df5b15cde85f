import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.js';
import { claimWindow } from './throttle.js';

export interface DedupeOptions {
  redis: RedisClient;
  /** Full Redis key prefix for this route, e.g. `mb:routing:dedupe:hr-critical:`. */
  prefix: string;
  windowMs: number;
}

/**
 * Identical content once per window: the identity (a rendered key template, or by default the
 * rendered payloads) is hashed into one Redis key per route; the first event to claim it wins.
 * The same event routed again passes (see {@link claimWindow}).
 */
export class Dedupe {
  constructor(private readonly options: DedupeOptions) {}

  static identity(content: unknown): string {
    return createHash('sha256')
      .update(JSON.stringify(content) ?? 'undefined')
      .digest('base64url')
      .slice(0, 32);
  }

  allow(identity: string, eventId: string): Promise<boolean> {
    return claimWindow(this.options.redis, this.options.prefix + Dedupe.identity(identity), eventId, this.options.windowMs);
  }
}
