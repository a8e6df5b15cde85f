import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import type { BridgeEvent } from '../core/event.js';
import type { Router } from './router.js';

/**
 * Rule unit tests (`moments-bridge test`): YAML fixtures of events and what the routes should
 * decide for them. They run on `Router.explain`, so they touch no Redis and no sink.
 *
 * ```yaml
 * tests:
 *   - name: very high heart rate pages on-call
 *     at: "2025-03-04T10:00:00Z"           # optional clock, for activeTimes
 *     event: { source: moments, kind: moment, data: { … } }
 *     expect:
 *       routes: [hr-critical, moments-report]     # exactly these matched, in this order
 *       deliveries:                               # each must be among the deliveries; [] = none
 *         - connector: oncall
 *           payload: { payload: { severity: critical } }   # a subset of the rendered payload
 * ```
 */

const eventSchema = z
  .strictObject({
    id: z.string().optional().describe('Event id. @defaultValue `<source>:<kind>:test-<n>`'),
    source: z.string().describe('Source name.'),
    kind: z.string().describe('Event kind, e.g. moment.'),
    time: z.string().optional().describe('ISO time. @defaultValue the case `at`, else now'),
    data: z.unknown().optional().describe('The upstream object.'),
  })
  .describe('The event under test (id and time are filled in when missing).');

export const ruleTestSchema = z
  .strictObject({
    name: z.string().min(1).describe('What the case shows; printed on its pass/fail line.'),
    at: z.string().optional().describe('The clock for this case (ISO), for routes with activeTimes. @defaultValue now'),
    event: eventSchema,
    expect: z
      .strictObject({
        routes: z.array(z.string()).optional().describe('Names of the routes that match, in order (exact).'),
        deliveries: z
          .array(
            z
              .strictObject({
                connector: z.string().describe('Connector name.'),
                route: z.string().optional().describe('Route name (any when omitted).'),
                payload: z.unknown().optional().describe('A subset of the rendered payload: listed keys must be equal, others are ignored.'),
              })
              .describe('One expected delivery.'),
          )
          .optional()
          .describe('Deliveries that must be produced; an empty list means none at all.'),
      })
      .describe('What should happen.'),
  })
  .describe('One rule test case.');

export const ruleTestFileSchema = z.union([z.array(ruleTestSchema), z.strictObject({ tests: z.array(ruleTestSchema).describe('The cases.') })]);

export type RuleTest = z.output<typeof ruleTestSchema>;

export interface RuleTestResult {
  name: string;
  file?: string;
  passed: boolean;
  problems: string[];
}

/** Reads and validates one fixture file. */
export function readRuleTests(file: string): RuleTest[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError('rule_tests_unreadable', `cannot read rule tests ${file}: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ruleTestFileSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InputError('rule_tests_invalid', `${file}: not a rule test file (a list of { name, event, expect }, or { tests: [...] }): ${first.join('; ')}`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.tests;
}

/** Runs one case against the compiled routes. */
export function runRuleTest(router: Router, test: RuleTest, n = 1): RuleTestResult {
  const nowMs = test.at !== undefined ? Date.parse(test.at) : Date.now();
  const problems: string[] = [];
  if (Number.isNaN(nowMs)) problems.push(`at: ${JSON.stringify(test.at)} is not an ISO time`);
  const e = test.event;
  const event: BridgeEvent = {
    id: e.id ?? `${e.source}:${e.kind}:test-${n}`,
    source: e.source,
    kind: e.kind,
    time: e.time ?? new Date(Number.isNaN(nowMs) ? Date.now() : nowMs).toISOString(),
    data: e.data ?? {},
  };
  const x = router.explain(event, Number.isNaN(nowMs) ? {} : { now: nowMs });
  const matched = x.routes.filter((r) => r.status === 'matched').map((r) => r.route);

  if (test.expect.routes && !sameList(matched, test.expect.routes)) {
    problems.push(`routes: expected [${test.expect.routes.join(', ')}], got [${matched.join(', ')}]`);
    // Say why each expected route did not match: that is what the user needs to fix.
    for (const name of test.expect.routes) {
      const d = x.routes.find((r) => r.route === name);
      if (!d) problems.push(`  ${name}: no such route`);
      else if (d.status !== 'matched') problems.push(`  ${name}: ${d.status}${d.reason ? ` — ${d.reason}` : ''}`);
    }
  }
  for (const r of x.routes) for (const d of r.deliveries) if (d.error) problems.push(`${r.route} → ${d.connector}: payload failed to render: ${d.error}`);

  const expected = test.expect.deliveries;
  if (expected) {
    if (expected.length === 0 && x.deliveries.length > 0) {
      problems.push(`deliveries: expected none, got ${x.deliveries.map((d) => `${d.route} → ${d.connector}`).join(', ')}`);
    }
    for (const want of expected) {
      const candidates = x.deliveries.filter((d) => d.connector === want.connector && (want.route === undefined || d.route === want.route));
      const where = `${want.route ? `${want.route} → ` : ''}${want.connector}`;
      if (candidates.length === 0) {
        problems.push(`deliveries: nothing was delivered to ${where}`);
        continue;
      }
      if (want.payload === undefined) continue;
      const diffs = candidates.map((d) => subsetDiff(want.payload, d.payload, 'payload'));
      if (!diffs.some((d) => d.length === 0)) problems.push(`deliveries: ${where}: ${diffs[0]!.join('; ')}`);
    }
  }
  return { name: test.name, passed: problems.length === 0, problems };
}

/** Runs every case of every file, printing a line per case and `N passed, M failed`. */
export async function runRuleTests(
  router: Router,
  files: readonly string[],
  out: (line: string) => void,
): Promise<{ passed: number; failed: number; results: RuleTestResult[] }> {
  let passed = 0;
  let failed = 0;
  let n = 0;
  const results: RuleTestResult[] = [];
  for (const file of files) {
    const tests = readRuleTests(file);
    if (files.length > 1) out(`${file}`);
    for (const test of tests) {
      const result = { ...runRuleTest(router, test, ++n), file };
      results.push(result);
      if (result.passed) {
        passed++;
        out(`  ✓ ${result.name}`);
      } else {
        failed++;
        out(`  ✗ ${result.name}`);
        for (const p of result.problems) out(`      ${p}`);
      }
    }
  }
  out(`${passed} passed, ${failed} failed`);
  return { passed, failed, results };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Where `actual` differs from the subset `want`: objects compare listed keys, arrays element-wise. */
export function subsetDiff(want: unknown, actual: unknown, at: string): string[] {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${at}: expected an object, got ${show(actual)}`];
    return Object.entries(want).flatMap(([k, v]) => subsetDiff(v, (actual as Record<string, unknown>)[k], `${at}.${k}`));
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(actual)) return [`${at}: expected a list, got ${show(actual)}`];
    if (want.length !== actual.length) return [`${at}: expected ${want.length} items, got ${actual.length}`];
    return want.flatMap((v, i) => subsetDiff(v, actual[i], `${at}[${i}]`));
  }
  return Object.is(want, actual) ? [] : [`${at}: expected ${show(want)}, got ${show(actual)}`];
}

function show(v: unknown): string {
  return v === undefined ? '(missing)' : JSON.stringify(v);
}
