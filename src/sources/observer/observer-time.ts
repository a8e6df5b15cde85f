/**
 * Timestamps as the Observer service or an SDK may give them. The vendor documents none, so the
 * bridge takes the two forms JavaScript services use: ISO-8601 text, or epoch milliseconds as a
 * number or a numeric string. Epoch seconds are not guessed at: a number is always milliseconds.
 */

const NUMERIC = /^\s*\d+(\.\d+)?\s*$/;

/** Epoch milliseconds of `value`, or undefined when it is not a usable timestamp. */
export function toEpochMs(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string' && value.trim() !== '') ms = NUMERIC.test(value) ? Number(value) : Date.parse(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  // Outside what Date can represent (±8.64e15 ms) toISOString() would throw.
  return ms <= 8.64e15 ? Math.trunc(ms) : undefined;
}

/** ISO-8601 text of `value`, or undefined when it is not a usable timestamp. */
export function toIsoTime(value: unknown): string | undefined {
  const ms = toEpochMs(value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
