/**
 * Secret values known to this process. Every config field the schema marks as secret registers
 * its resolved value here while the config is parsed; the logger replaces any occurrence of a
 * registered value with `<secret>` in every line it writes, whatever field or message carries it.
 */
const secrets = new Set<string>();
let pattern: RegExp | undefined;

/** Values shorter than this are not redacted (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 4;

export const REDACTED = '<secret>';

export function registerSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  // The JSON-escaped form is what appears inside a serialized log line.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) secrets.add(escaped);
  pattern = undefined;
}

export function redactSecrets(text: string): string {
  if (secrets.size === 0) return text;
  pattern ??= new RegExp(
    [...secrets]
      .sort((a, b) => b.length - a.length)
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'g',
  );
  return text.replace(pattern, REDACTED);
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}
