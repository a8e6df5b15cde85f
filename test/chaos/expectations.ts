/**
 * The bars the chaos scenarios are held to, shared by the short (`npm test`) and long
 * (`npm run chaos:long`) versions so both check the same promise.
 */
import { expect } from 'vitest';
import type { ScenarioResult } from './scenarios.js';

/** No crash involved: every event at each of its sinks exactly once, nothing dead-lettered. */
export function expectEveryEventOnce(r: ScenarioResult): void {
  expect(r.lost).toBe(0);
  expect(r.duplicated).toBe(0);
  expect(r.deadLetters ?? 0).toBe(0);
}

/** After a crash: nothing lost, nothing dead-lettered; duplicates within what the crash could make Redis forget. */
export function expectNoLossWithinBound(r: ScenarioResult): void {
  expect(r.lost).toBe(0);
  expect(r.duplicated).toBeLessThanOrEqual(r.duplicateBound as number);
  expect(r.deadLetters ?? 0).toBe(0);
}

/** Slack: no dead letter although maxAttempts is 1, and each channel waited out every Retry-After. */
export function expectSlackStormHandled(r: ScenarioResult): void {
  expectEveryEventOnce(r);
  expect(r.rateLimitedWithoutAttempt).toBe(r.answered429);
  expect(r.minGapAfter429Ms).toBeGreaterThanOrEqual(1000);
}

/** PagerDuty: one accepted event and one alert per event, each under its own dedup_key. */
export function expectOneAlertPerEvent(r: ScenarioResult): void {
  expectEveryEventOnce(r);
  expect(r.failedAttempts).toBe(r.injectedFailures);
  expect(r.uniqueDedupKeys).toBe(r.expected);
  expect(r.acceptedEvents).toBe(r.expected);
  expect(r.alertsWithMoreThanOneTrigger).toBe(0);
}

/** Kinesis: the stream holds exactly one record per event, each with its own envelope id. */
export function expectOneRecordPerEvent(r: ScenarioResult): void {
  expectEveryEventOnce(r);
  expect(r.refusedRecords).toBeGreaterThan(0);
  expect(r.streamRecords).toBe(r.expected);
  expect(r.uniqueEnvelopeIds).toBe(r.expected);
}

/** Reload: the first connector got every event once; the new route took over no later than the reload and lost nothing from there on. */
export function expectReloadRouted(r: ScenarioResult): void {
  expectEveryEventOnce(r);
  expect(r.firstCopied).toBeGreaterThan(0);
  expect(r.firstCopied).toBeLessThanOrEqual(r.publishedAtApplied as number);
  const copy = r.copy as { lost: number; duplicated: number };
  expect(copy.lost).toBe(0);
  expect(copy.duplicated).toBe(0);
  expect(r.viaOldSettings).toBeGreaterThan(0);
  expect(r.viaNewSettings).toBeGreaterThan(0);
}
