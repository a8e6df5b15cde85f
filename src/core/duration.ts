import { InputError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A written duration: a number and a unit (`500ms`, `30s`, `5m`, `1h`, `1d`), spaces around allowed. */
export const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)(ms|s|m|h|d)\s*$/;

/** The message for text that is not a duration (config error and `duration_invalid` alike). */
export function notADuration(value: string): string {
  return `"${value}" is not a duration: use a number of milliseconds or e.g. 500ms, 30s, 5m, 1h, 1d`;
}

/** `500ms`, `30s`, `5m`, `1h`, `1d`, or a number of milliseconds → milliseconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = DURATION_TEXT.exec(value);
  if (!m) throw new InputError('duration_invalid', notADuration(value));
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}
