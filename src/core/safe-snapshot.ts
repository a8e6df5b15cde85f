/** Limits of {@link safeSnapshot}. */
export interface SnapshotLimits {
  /** Deeper values are replaced by a marker. @defaultValue 32 */
  maxDepth?: number;
  /** A snapshot whose JSON is longer than this keeps only a preview of that many characters. @defaultValue 65536 */
  maxChars?: number;
}

/**
 * A JSON-safe copy of a value that `JSON.stringify` refuses (too deep, BigInt, circular, a
 * throwing getter), so an item set aside for that very reason can still be stored and read:
 * BigInt → `"123n"`, a repeated object on the path → `"[Circular]"`, below `maxDepth` →
 * `"[Truncated: …]"`, a property that throws on read → `"[Unreadable: …]"`. Never throws.
 */
export function safeSnapshot(value: unknown, limits: SnapshotLimits = {}): unknown {
  const maxDepth = limits.maxDepth ?? 32;
  const maxChars = limits.maxChars ?? 65_536;
  const path = new Set<object>();

  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'function' || typeof v === 'symbol' || v === undefined) return undefined;
    if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
    if (v === null || typeof v !== 'object') return v;
    if (path.has(v)) return '[Circular]';
    if (depth >= maxDepth) return `[Truncated: nested deeper than ${maxDepth} levels]`;
    try {
      const json = (v as { toJSON?: unknown }).toJSON;
      if (typeof json === 'function') return walk((json as () => unknown).call(v), depth);
      path.add(v);
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1) ?? null);
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v)) {
        let field: unknown;
        try {
          field = (v as Record<string, unknown>)[key];
        } catch (err) {
          field = `[Unreadable: ${err instanceof Error ? err.message : String(err)}]`;
        }
        const copy = walk(field, depth + 1);
        if (copy !== undefined) out[key] = copy;
      }
      return out;
    } catch (err) {
      return `[Unreadable: ${err instanceof Error ? err.message : String(err)}]`;
    } finally {
      path.delete(v);
    }
  };

  const copy = walk(value, 0);
  const text = JSON.stringify(copy) ?? 'null';
  return text.length <= maxChars ? copy : { truncated: true, chars: text.length, preview: text.slice(0, maxChars) };
}

/** Fields that identify an upstream object: kept beside a snapshot that had to be cut to a preview. */
const IDENTITY_FIELDS = ['publicId', 'id', 'callId', 'clientId', 'createdAt', 'updatedAt', 'timestamp'] as const;

/**
 * {@link safeSnapshot}, and when the copy had to be cut to a preview, the object's identifying
 * fields (publicId, id, createdAt…) beside it, so an operator can still find it upstream.
 */
export function identifiedSnapshot(raw: unknown): unknown {
  const copy = safeSnapshot(raw);
  if (raw === null || typeof raw !== 'object' || copy === null || typeof copy !== 'object' || !('truncated' in copy)) return copy;
  const ids: Record<string, unknown> = {};
  for (const field of IDENTITY_FIELDS) {
    let value: unknown;
    try {
      value = (raw as Record<string, unknown>)[field];
    } catch {
      continue;
    }
    if (value !== undefined) ids[field] = safeSnapshot(value, { maxChars: 1024 });
  }
  return { ...ids, snapshot: copy };
}

/** Why `JSON.stringify` refused a value, in words an operator can act on. */
export function serializeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof RangeError) return `${message} (nested too deep to serialize)`;
  if (/BigInt/i.test(message)) return `${message} (a BigInt value)`;
  if (/circular/i.test(message)) return `${message.split('\n')[0]} (a circular reference)`;
  return message;
}
