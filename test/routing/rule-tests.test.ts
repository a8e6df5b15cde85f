import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { formatExplanation } from '../../src/routing/format-explanation.js';
import { routeSchema } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { readRuleTests, runRuleTests, subsetDiff } from '../../src/routing/rule-tests.js';
import { parseEvent } from '../../src/cli/commands/route.js';
import { CollectConnector } from '../helpers/collect-connector.js';

const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
const dir = mkdtempSync(join(tmpdir(), 'mb-rules-'));
afterAll(() => {
  lazyRedis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const router = Router.compile(
  [
    {
      name: 'hr-critical',
      match: { kind: 'moment' },
      when: 'data.value > 180',
      to: ['slack', 'pager'],
      continue: true,
      throttle: { key: '{{ data.athleteId }}', window: '5m' },
    },
    { name: 'office', match: { kind: 'moment' }, to: ['slack'], activeTimes: [{ days: ['mon-fri'], from: '08:00', to: '20:00', tz: 'UTC' }] },
    { name: 'calls', match: { kind: 'observer.row' }, to: ['slack'], group: { by: ['data.callId'] } },
  ].map((r) => routeSchema.parse(r)),
  {
    redis: lazyRedis,
    keyPrefix: 't:',
    logger: silentLogger(),
    connectors: new Map([
      ['slack', new CollectConnector({ text: '{{ data.athleteId }} at {{ data.value }}', channel: '#ops' })],
      ['pager', new CollectConnector({ summary: 'HR {{ data.value }}', severity: 'critical' })],
    ]),
  },
);

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('rule unit tests', () => {
  it('prints a line per case and "N passed, M failed", with the reason of each failure', async () => {
    const file = write(
      'rules.test.yaml',
      `
tests:
  - name: high heart rate pages and posts
    at: "2025-03-04T10:00:00Z"
    event: { source: moments, kind: moment, data: { athleteId: a-1, value: 185 } }
    expect:
      routes: [hr-critical, office]
      deliveries:
        - { connector: pager, payload: { severity: critical, summary: HR 185 } }
        - { connector: slack, route: office, payload: { channel: "#ops" } }
  - name: at night only the critical route
    at: "2025-03-04T23:00:00Z"
    event: { source: moments, kind: moment, data: { athleteId: a-1, value: 185 } }
    expect: { routes: [hr-critical] }
  - name: nothing for a trigger change
    event: { source: moments, kind: trigger.created, data: {} }
    expect: { routes: [], deliveries: [] }
  - name: wrong expectation (fails on purpose)
    at: "2025-03-04T23:00:00Z"
    event: { source: moments, kind: moment, data: { athleteId: a-2, value: 150 } }
    expect:
      routes: [office]
      deliveries: [{ connector: pager, payload: { summary: HR 150 } }]
  - name: wrong payload (fails on purpose)
    at: "2025-03-04T10:00:00Z"
    event: { source: moments, kind: moment, data: { athleteId: a-1, value: 185 } }
    expect:
      deliveries: [{ connector: pager, payload: { severity: warning } }]
`,
    );
    const lines: string[] = [];
    const result = await runRuleTests(router, [file], (l) => lines.push(l));
    expect(result).toMatchObject({ passed: 3, failed: 2 });
    expect(result.results.map((r) => [r.name, r.passed, r.file])).toEqual([
      ['high heart rate pages and posts', true, file],
      ['at night only the critical route', true, file],
      ['nothing for a trigger change', true, file],
      ['wrong expectation (fails on purpose)', false, file],
      ['wrong payload (fails on purpose)', false, file],
    ]);
    expect(lines).toEqual([
      '  ✓ high heart rate pages and posts',
      '  ✓ at night only the critical route',
      '  ✓ nothing for a trigger change',
      '  ✗ wrong expectation (fails on purpose)',
      '      routes: expected [office], got []',
      '        office: no-match — activeTimes: 2025-03-04T23:00:00.000Z is outside mon-fri 08:00-20:00 UTC',
      '      deliveries: nothing was delivered to pager',
      '  ✗ wrong payload (fails on purpose)',
      '      deliveries: pager: payload.severity: expected "warning", got "critical"',
      '3 passed, 2 failed',
    ]);
  });

  it('rejects a malformed fixture with a clear message', () => {
    const file = write('bad.yaml', 'tests:\n  - name: x\n    evnt: {}\n');
    expect(() => readRuleTests(file)).toThrow(/not a rule test file/);
    expect(() => readRuleTests(join(dir, 'missing.yaml'))).toThrow(/cannot read rule tests/);
  });

  it('subset comparison', () => {
    expect(subsetDiff({ a: 1 }, { a: 1, b: 2 }, 'p')).toEqual([]);
    expect(subsetDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 3, c: 4 }] }, 'p')).toEqual(['p.a[1].b: expected 2, got 3']);
    expect(subsetDiff({ a: 1 }, 'text', 'p')).toEqual(['p: expected an object, got "text"']);
  });
});

describe('route explanation', () => {
  it('parses an event, fills id and time, and formats the decision', () => {
    expect(() => parseEvent('{', 'e.json')).toThrow(/e.json: not JSON/);
    expect(() => parseEvent('{"kind":"moment"}', 'e.json')).toThrow(/at least "source" and "kind"/);
    const event = parseEvent('{"source":"calls","kind":"observer.row","data":{"callId":"c1"}}', 'stdin', Date.parse('2025-03-04T10:00:00Z'));
    expect(event).toMatchObject({ id: 'calls:observer.row:dry-run', time: '2025-03-04T10:00:00.000Z' });
    const text = formatExplanation(router.explain(event, { now: Date.parse('2025-03-04T10:00:00Z') }));
    expect(text).toContain('✗ routes[0] hr-critical: no-match\n    match: kind is "observer.row", expected = "moment"');
    expect(text).toContain('✓ routes[2] calls: matched');
    expect(text).toContain('grouped by {"data.callId":"c1"}');
    expect(text).toMatch(/1 delivery$/);
    expect(lazyRedis.status).toBe('wait');
  });
});
