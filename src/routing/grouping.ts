import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/redis-client.js';
import type { BridgeEvent } from '../core/event.js';
import { runLua } from '../redis/run-lua.js';

/**
 * Pending group digests, stored in Redis so a restart (or another replica) flushes what one
 * process collected. Layout, all under one hash tag so the scripts stay in one Cluster slot:
 *
 * - `due`     sorted set: group → when its next digest is due (ms)
 * - `leases`  sorted set: group → when a flush in progress is considered abandoned
 * - `events:<hash>` list of event JSON, oldest first
 * - `last:<hash>`   when the group's last digest went out (for `interval`)
 * - `seen:<route>:<event id>` the event is already in a group of that route (replicas route the same event)
 *
 * A group is a member `["route", "group key"]`. Flushing claims due groups by moving them to
 * `leases` (atomic, so two replicas never flush the same group), reads up to `max` events, hands
 * the digest on, then trims what was sent. A crash mid-flush lets the lease lapse and the group is
 * flushed again with the same events — the digest id is stable, so the queue collapses it.
 */

export interface GroupSettings {
  waitMs: number;
  intervalMs: number;
  max: number;
}

export interface PendingGroup {
  route: string;
  groupKey: string;
  /** The sorted-set member, to complete or fail the flush. */
  member: string;
  events: BridgeEvent[];
}

const ADD = `
if redis.call('SET', KEYS[5], '1', 'PX', ARGV[7], 'NX') == false then return 0 end
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
local now = tonumber(ARGV[3])
local max = tonumber(ARGV[6])
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then return n end
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if score then
  if n >= max and tonumber(score) > now then redis.call('ZADD', KEYS[2], now, ARGV[2]) end
  return n
end
local due = now + tonumber(ARGV[4])
local last = redis.call('GET', KEYS[4])
if last then
  local d = tonumber(last) + tonumber(ARGV[5])
  if d > due then due = d end
end
if n >= max then due = now end
redis.call('ZADD', KEYS[2], due, ARGV[2])
return n
`;

const CLAIM = `
local now = tonumber(ARGV[1])
local until_ = now + tonumber(ARGV[2])
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, ARGV[3])) do
  redis.call('ZADD', KEYS[2], until_, m)
  table.insert(out, m)
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[3])) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], until_, m)
  table.insert(out, m)
end
return out
`;

const COMPLETE = `
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
local now = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
redis.call('SET', KEYS[4], ARGV[3], 'PX', interval + 1000)
local left = redis.call('LLEN', KEYS[1])
if left > 0 then
  local due = now + interval
  if left >= tonumber(ARGV[5]) then due = now end
  redis.call('ZADD', KEYS[2], due, ARGV[1])
end
return left
`;

const RESCHEDULE = `
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`;

export class GroupStore {
  private readonly base: string;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
  ) {
    this.base = `${keyPrefix}{routing-groups}:`;
  }

  private keysOf(member: string): { events: string; last: string } {
    const h = createHash('sha256').update(member).digest('base64url').slice(0, 27);
    return { events: `${this.base}events:${h}`, last: `${this.base}last:${h}` };
  }

  static member(route: string, groupKey: string): string {
    return JSON.stringify([route, groupKey]);
  }

  /** Adds an event to its group; false when that event is already in a group of this route. */
  async add(route: string, groupKey: string, event: BridgeEvent, settings: GroupSettings, nowMs: number): Promise<boolean> {
    const member = GroupStore.member(route, groupKey);
    const { events, last } = this.keysOf(member);
    // Long enough to outlive any flush of this event; short enough not to grow forever.
    const seenTtl = Math.max(3_600_000, 2 * (settings.waitMs + settings.intervalMs));
    const added = await runLua(
      this.redis,
      ADD,
      5,
      events,
      `${this.base}due`,
      `${this.base}leases`,
      last,
      `${this.base}seen:${route}:${event.id}`,
      JSON.stringify(event),
      member,
      String(nowMs),
      String(settings.waitMs),
      String(settings.intervalMs),
      String(settings.max),
      String(seenTtl),
    );
    return Number(added) > 0;
  }

  /** Claims groups whose digest is due (or whose flush was abandoned) and reads up to `maxOf(route)` events of each. */
  async claimDue(nowMs: number, leaseMs: number, maxOf: (route: string) => number, limit = 100): Promise<PendingGroup[]> {
    const members = (await runLua(this.redis, CLAIM, 2, `${this.base}due`, `${this.base}leases`, String(nowMs), String(leaseMs), String(limit))) as string[];
    const groups: PendingGroup[] = [];
    for (const member of members) {
      const [route, groupKey] = JSON.parse(member) as [string, string];
      const raw = await this.redis.lrange(this.keysOf(member).events, 0, maxOf(route) - 1);
      groups.push({ route, groupKey, member, events: raw.map((r) => JSON.parse(r) as BridgeEvent) });
    }
    return groups;
  }

  /** The digest of `sent` events went out: trim them, schedule the rest `interval` later. Returns events left. */
  async complete(group: PendingGroup, sent: number, settings: GroupSettings, nowMs: number): Promise<number> {
    const { events, last } = this.keysOf(group.member);
    const left = await runLua(
      this.redis,
      COMPLETE,
      4,
      events,
      `${this.base}due`,
      `${this.base}leases`,
      last,
      group.member,
      String(sent),
      String(nowMs),
      String(settings.intervalMs),
      String(settings.max),
    );
    return Number(left);
  }

  /** The flush failed (or the route is gone): try again at `retryAtMs`. */
  async reschedule(group: PendingGroup, retryAtMs: number): Promise<void> {
    await runLua(this.redis, RESCHEDULE, 2, `${this.base}due`, `${this.base}leases`, group.member, String(retryAtMs));
  }

  /** Groups waiting, for metrics and tests. */
  async pendingCount(): Promise<number> {
    const [due, leased] = await Promise.all([this.redis.zcard(`${this.base}due`), this.redis.zcard(`${this.base}leases`)]);
    return due + leased;
  }
}
