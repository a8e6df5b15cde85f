import { InputError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `5m`, `1h`, `1d`, or a number of milliseconds → milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) throw new InputError('duration_invalid', `"${value}" is not a duration: use a number of milliseconds or e.g. 500ms, 30s, 5m, 1h, 1d`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}
