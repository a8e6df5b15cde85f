import { z } from 'zod';
import { durationMsField } from '../core/duration-field.js';

/**
 * One entry of `routes:` (PRODUCT.md §5). Routes are evaluated in order; the first route that
 * matches wins unless it says `continue: true`.
 */

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** `{ gt: 170 }`, `{ in: [a, b] }`, `{ regex: "^HR" }`, `{ exists: true }` — several ops are ANDed. */
export const matchOpsSchema = z
  .strictObject({
    eq: scalar.optional().describe('Equal to this value (strict: 7 and "7" differ). Use it to compare with a string that looks like /regex/.'),
    ne: scalar.optional().describe('Not equal to this value (a missing field is not equal).'),
    gt: z.union([z.number(), z.string()]).optional().describe('Greater than (numbers compare numerically, strings such as ISO times lexicographically).'),
    ge: z.union([z.number(), z.string()]).optional().describe('Greater than or equal.'),
    lt: z.union([z.number(), z.string()]).optional().describe('Less than.'),
    le: z.union([z.number(), z.string()]).optional().describe('Less than or equal.'),
    in: z.array(scalar).optional().describe('Equal to one of these values.'),
    notIn: z.array(scalar).optional().describe('Present and equal to none of these values.'),
    regex: z.string().optional().describe('Matches this regular expression (a string field; `/body/flags` or a bare body).'),
    contains: scalar.optional().describe('The field is a list holding this value, or a string containing it.'),
    exists: z.boolean().optional().describe('true: the field is present and not null; false: it is missing or null.'),
  })
  .describe('Operators on one field; all of them must hold.');

export const matchValueSchema = z
  .union([scalar, z.array(scalar), matchOpsSchema])
  .describe(
    'A value (equality), a list (the field equals one of them), a string "/regex/flags", or an object of operators (eq ne gt ge lt le in notIn regex contains exists).',
  );

const TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
export const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY = /^(sun|mon|tue|wed|thu|fri|sat)(-(sun|mon|tue|wed|thu|fri|sat))?$/;

export const activeTimeSchema = z
  .strictObject({
    days: z
      .array(z.string().toLowerCase().regex(DAY, 'a day like mon, or a range like mon-fri'))
      .default(['mon-sun'])
      .describe('Days (sun mon tue wed thu fri sat) or ranges like mon-fri. @defaultValue [mon-sun]'),
    from: z.string().regex(TIME, 'a time like 08:00').default('00:00').describe('Start of the window, local time HH:MM. @defaultValue 00:00'),
    to: z
      .string()
      .regex(TIME, 'a time like 20:00 (24:00 for end of day)')
      .default('24:00')
      .describe(
        'End of the window (exclusive), local time HH:MM; earlier than `from` means overnight (22:00–06:00 runs into the next day). @defaultValue 24:00',
      ),
    tz: z.string().default('UTC').describe('IANA time zone of from/to/days, e.g. Europe/London. @defaultValue UTC'),
  })
  .describe('One window in which the route is active.');

const target = z.union([
  z.string().min(1).describe('A connector name.'),
  z
    .looseObject({ connector: z.string().min(1).describe('The connector name.') })
    .describe('A connector name plus per-route payload overrides (e.g. `channel`, `text`); the connector validates the override keys.'),
]);

export const routeSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'names use letters, digits, "_", "-", "." and ":"')
      .describe('Unique name of the route (in logs, metrics, job ids and `route` explanations).'),
    enabled: z.boolean().default(true).describe('false: the route is skipped (kept in the file). @defaultValue true'),
    from: z.array(z.string().min(1)).min(1).optional().describe('Source names whose events this route sees. @defaultValue all sources'),
    match: z
      .record(z.string().min(1), matchValueSchema)
      .optional()
      .describe('Field path (e.g. `kind`, `data.triggerName`, `data.matches.0.metric`) → condition; all must hold.'),
    when: z
      .string()
      .min(1)
      .optional()
      .describe(
        'CEL expression over `id`, `source`, `kind`, `time` and `data`, e.g. `data.matches.exists(m, m.value > 180)`. Compiled once at load; an evaluation error counts as no match.',
      ),
    to: z.array(target).min(1).describe('Connectors that get the event, each optionally with payload overrides.'),
    continue: z.boolean().default(false).describe('true: keep evaluating later routes after this one matched. @defaultValue false (first match wins)'),
    throttle: z
      .strictObject({
        key: z.string().min(1).describe('Template of the throttle key, e.g. "{{ data.athleteId }}".'),
        window: durationMsField('At most one delivery per key per window; the first passes'),
      })
      .optional()
      .describe('Rate-limit this route per key, shared by all replicas through Redis.'),
    dedupe: z
      .strictObject({
        key: z.string().min(1).optional().describe('Template of the identity; default: the rendered payloads, so identical content is sent once per window.'),
        window: durationMsField('How long an identity is remembered'),
      })
      .optional()
      .describe('Drop events whose content (or key) was already delivered by this route within the window.'),
    group: z
      .strictObject({
        by: z.array(z.string().min(1)).default([]).describe('Field paths whose values form the group key. @defaultValue [] (one group per route)'),
        wait: durationMsField('How long a new group collects events before its first digest', '30s'),
        interval: durationMsField('Least time between two digests of one group', '5m'),
        max: z.number().int().positive().default(100).describe('Most events in one digest; a full group is sent at once. @defaultValue 100'),
      })
      .optional()
      .describe(
        'Digests (Alertmanager-style): matching events with the same group key become one delivery whose event has `events: [...]`. Pending groups live in Redis and survive restarts.',
      ),
    activeTimes: z
      .array(activeTimeSchema)
      .min(1)
      .optional()
      .describe(
        'When the route is active. Outside every window the route does not match, so the event falls through to later routes (put a fallback route after it). @defaultValue always',
      ),
  })
  .describe('One routing rule.');

export type RouteConfig = z.output<typeof routeSchema>;
export type RouteConfigInput = z.input<typeof routeSchema>;
export type MatchValue = z.output<typeof matchValueSchema>;
export type MatchOps = z.output<typeof matchOpsSchema>;
export type ActiveTime = z.output<typeof activeTimeSchema>;
