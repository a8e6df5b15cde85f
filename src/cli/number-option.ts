import { InvalidArgumentError } from 'commander';

export interface NumberOptionRule {
  /** Whole numbers only. @defaultValue false */
  integer?: boolean;
  /** Smallest value accepted. @defaultValue no bound */
  min?: number;
  /** Largest value accepted. @defaultValue no bound */
  max?: number;
}

/**
 * A commander `argParser` for a numeric option. `Number()` alone lets `abc` through as NaN (which
 * Node's `listen()` rejects with an internals message) and `-1` through as a rate; commander turns
 * the InvalidArgumentError into `option '--port <port>' argument 'abc' is invalid. …`, exit 1.
 */
export function numberOption(rule: NumberOptionRule): (value: string) => number {
  const what = describe(rule);
  return (value: string) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    const ok =
      Number.isFinite(n) && (!rule.integer || Number.isInteger(n)) && (rule.min === undefined || n >= rule.min) && (rule.max === undefined || n <= rule.max);
    if (!ok) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

function describe({ integer, min, max }: NumberOptionRule): string {
  const noun = integer ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  if (min !== undefined) return min === 0 ? `${noun} ≥ 0` : `${noun} ≥ ${min}`;
  if (max !== undefined) return `${noun} ≤ ${max}`;
  return noun;
}

/** A TCP port; 0 lets the system pick a free one. */
export const portOption = numberOption({ integer: true, min: 0, max: 65_535 });
/** A count or size that must be at least 1. */
export const positiveIntOption = numberOption({ integer: true, min: 1 });
/** A count that may be 0. */
export const countOption = numberOption({ integer: true, min: 0 });
/** A rate or amount that may be fractional, not negative. */
export const nonNegativeOption = numberOption({ min: 0 });
