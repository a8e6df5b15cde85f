import type { z } from 'zod';
import { InputError } from '../../src/core/errors.js';

/**
 * A route's per-target overrides (`to: [{ connector: ops-slack, channel: "#x" }]`) parsed with the
 * connector's strict overrides schema. An unknown key or a bad value is an `override_invalid`
 * InputError naming `where` (the connector), each problem and the keys a route may override, so
 * `check` reports it at config load rather than at the first delivery.
 */
export function parseOverrides<S extends z.ZodObject>(schema: S, overrides: Record<string, unknown>, where: string): z.output<S> {
  const parsed = schema.safeParse(overrides);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(override)'}: ${i.message}`).join('; ');
    throw new InputError('override_invalid', `${where}: invalid route override (${issues}); allowed keys: ${Object.keys(schema.shape).join(', ')}`);
  }
  return parsed.data;
}
