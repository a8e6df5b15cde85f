import type { RedisClient } from '../../redis/redis-client.js';
import { counter } from '../../core/metrics.js';
import { stateKeyBase, type QuarantinedItem, type SourceContext } from '../source.js';

const repeats = counter(
  'mb_moments_quarantine_repeats_total',
  'Invalid moments and triggers read again (a back-fill, a reconnect) and not quarantined a second time',
  ['source', 'kind'],
);

/**
 * The quarantine, once per upstream object and dedup window. A back-fill re-reads every moment
 * from the cursor, and an invalid moment never moves the cursor nor enters the seen set, so each
 * back-fill used to quarantine it again: the counter overcounted and the capped list filled with
 * repeats (pushing real items out). An object with a publicId (and, for triggers, the updatedAt of
 * that version) is quarantined the first time only; one without an id, or while Redis does not
 * answer, goes to the quarantine every time (a repeat is better than a loss).
 */
export function quarantineOnce(ctx: SourceContext, redis: RedisClient, ttlMs: number): SourceContext['quarantine'] {
  const prefix = `${stateKeyBase(ctx)}quarantined:`;
  return async (item: Omit<QuarantinedItem, 'source'>): Promise<void> => {
    const identity = identityOf(item.raw);
    if (identity !== undefined) {
      let first = true;
      try {
        first = (await redis.set(`${prefix}${item.kind}:${identity}`, '1', 'PX', ttlMs, 'NX')) !== null;
      } catch {
        // Redis unreachable: quarantine anyway.
      }
      if (!first) {
        repeats.inc({ source: ctx.name, kind: item.kind });
        return;
      }
    }
    await ctx.quarantine(item);
  };
}

/** publicId (with updatedAt when present: a trigger's versions are separate objects), from the object or the copy kept of it. */
function identityOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const { publicId, updatedAt } = raw as Record<string, unknown>;
  if (typeof publicId !== 'string' && typeof publicId !== 'number') return undefined;
  const id = String(publicId);
  if (id === '' || id.length > 512) return undefined;
  return typeof updatedAt === 'string' && updatedAt.length <= 64 ? `${id}@${updatedAt}` : id;
}
