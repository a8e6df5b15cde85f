import type { RedisClient } from '../redis/redis-client.js';
import { runLua } from '../redis/run-lua.js';

/**
 * "At most one per key per window", shared by every replica through one Redis key per
 * (route, key). The first event claims the key with SET NX PX; its id is the value, so the same
 * event routed again (a second replica, a back-fill after a crash) passes again and the queue's
 * job id collapses the duplicates — while any other event within the window is held back.
 */
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if not held then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
  return 1
end
if held == ARGV[1] then return 1 end
return 0
`;

/** true when `holder` owns `key` for this window (it claimed it now, or had claimed it). */
export async function claimWindow(redis: RedisClient, key: string, holder: string, windowMs: number): Promise<boolean> {
  const result = await runLua(redis, CLAIM, 1, key, holder, String(Math.max(1, windowMs)));
  return result === 1;
}

export interface ThrottleOptions {
  redis: RedisClient;
  /** Full Redis key prefix for this route, e.g. `mb:routing:throttle:hr-critical:`. */
  prefix: string;
  windowMs: number;
}

export class Throttle {
  constructor(private readonly options: ThrottleOptions) {}

  /** true: this event may be delivered; false: another event with this key was within the window. */
  allow(key: string, eventId: string): Promise<boolean> {
    return claimWindow(this.options.redis, this.options.prefix + key, eventId, this.options.windowMs);
  }
}
