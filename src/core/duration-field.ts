import { z } from 'zod';
import { DURATION_TEXT, notADuration, parseDuration } from './duration.js';

type WrittenDuration = z.ZodUnion<readonly [z.ZodNumber, z.ZodString]>;

const DURATION_HINT = '(duration, e.g. 500ms, 30s, 15m, 1h)';

/**
 * A duration config field (`500ms`, `30s`, `15m`, `1h`, or milliseconds) parsed to milliseconds
 * at load, with a config error that names the field when the text is not a duration (the same
 * message `parseDuration` throws for a CLI flag). The one
 * duration convention: every config schema yields milliseconds, so no code parses a duration at use.
 *
 * With `defaultValue`, a missing field takes it (parsed like a written one). Without, the field is
 * required unless the caller adds `.optional()`; a `@defaultValue` written in `description` (a
 * default applied elsewhere, e.g. by the queue) stays at the end of the description for the docs.
 */
export function durationMsField(description: string, defaultValue: string): z.ZodPipe<z.ZodDefault<WrittenDuration>, z.ZodTransform<number, number | string>>;
export function durationMsField(description: string): z.ZodPipe<WrittenDuration, z.ZodTransform<number, number | string>>;
export function durationMsField(description: string, defaultValue?: string) {
  // The pattern is checked here rather than only in parseDuration so the JSON schema carries it (editors flag `30 seconds`).
  const written: WrittenDuration = z.union([
    z.number().nonnegative(),
    z.string().regex(DURATION_TEXT, { error: (issue) => notADuration(String(issue.input)) }),
  ]);
  const [said = '', documentedDefault] = description.split(/\s*@defaultValue\s*/);
  const text = said.replace(/\.$/, '');
  const shownDefault = defaultValue ?? documentedDefault;
  const toMs = z.transform((value: number | string) => parseDuration(value));
  return (defaultValue === undefined ? written.pipe(toMs) : written.default(defaultValue).pipe(toMs)).describe(
    `${text} ${DURATION_HINT}.${shownDefault === undefined ? '' : ` @defaultValue ${shownDefault}`}`,
  );
}
