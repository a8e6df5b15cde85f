import { z } from 'zod';

/**
 * Results the bridge checks with zod. Rows, ongoing calls and admin payloads are not documented by
 * the vendor, so they are not held to a schema: row-identity.ts, ongoing-calls.ts and
 * admin-states.ts check only what routing and deduplication need and keep every other field.
 */

/** `getSummaryStats(params)`: any object of aggregate stats. */
export const summaryStats = z.record(z.string(), z.unknown());
export type SummaryStats = z.output<typeof summaryStats>;
