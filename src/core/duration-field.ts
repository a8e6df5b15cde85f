import { z } from 'zod';
import { parseDuration } from './duration.js';

/**
 * A duration config field (`500ms`, `30s`, `15m`, `1h`, or milliseconds) parsed to milliseconds,
 * with a config error that names the field when the text is not a duration.
 */
export function durationMsField(description: string, defaultValue: string) {
  return z
    .union([z.number().nonnegative(), z.string().min(1)])
    .default(defaultValue)
    .transform((value, ctx) => {
      try {
        return parseDuration(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .describe(`${description} (duration, e.g. 500ms, 30s, 15m, 1h). @defaultValue ${defaultValue}`);
}
