import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorPlugins } from '../../connectors/registry.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { baseUrl, startDaemon, writeConfig } from '../helpers/daemon-kit.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The exporter and docs/operations.md name the same series. The daemon runs one connector of
 * every type, because a connector's own metrics are declared by its module, which is loaded only
 * when such a connector is built; the sources' modules are loaded by the source registry.
 */
const fixture = new URL('../connectors/module/fixtures/ntfy-connector.js', import.meta.url).pathname;
const dead = 'http://127.0.0.1:9'; // nothing is delivered: the connectors only need to be built

let redis: TestRedis;
let daemon: Daemon;
let exported: Map<string, string>;
let scraped: string;

/** promtool (Debian: `apt-get install prometheus`) when installed; the lint test is skipped without it. */
const promtool = spawnSync('promtool', ['--version']).status === 0;

beforeAll(async () => {
  redis = await startTestRedis();
  const connectors = {
    slack: `{ type: slack, apiUrl: "${dead}/api/", token: xoxb-test, channel: "#ops" }`,
    pagerduty: `{ type: pagerduty, url: "${dead}/v2/enqueue", routingKey: test-key }`,
    webhook: `{ type: webhook, url: "${dead}/hook", secret: whsec_dGVzdA==, allowPrivateNetworks: true }`,
    module: `{ type: module, path: "${fixture}", options: { url: "${dead}", topic: t } }`,
    sheets: `{ type: sheets, rootUrl: "${dead}/", accessToken: test-token, spreadsheetId: s, columns: { Id: "{{ id }}" } }`,
    kinesis: `{ type: kinesis, endpoint: "${dead}", region: us-east-1, credentials: { accessKeyId: a, secretAccessKey: b }, stream: s, producerId: p, eventType: e, partitionKey: "{{ id }}" }`,
  };
  expect(Object.keys(connectors).sort()).toEqual([...connectorPlugins.keys()].sort());
  const file = writeConfig(`
redis: { url: "${redis.url}", keyPrefix: docs }
server: { port: 0 }
shutdown: { grace: 1s }
connectors:
${Object.entries(connectors)
  .map(([type, c]) => `  ${type}-sink: ${c}`)
  .join('\n')}
routes:
  - { name: all, to: [${Object.keys(connectors)
    .map((t) => `${t}-sink`)
    .join(', ')}] }
`);
  daemon = await startDaemon(file, { sources: false });
  scraped = await (await fetch(`${baseUrl(daemon)}/metrics`)).text();
  exported = new Map([...scraped.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await redis?.stop();
});

/** prom-client's Node runtime metrics (mb_process_*, mb_nodejs_*): documented as a group, not one by one. */
async function nodeDefaults(): Promise<Set<string>> {
  const r = new Registry();
  collectDefaultMetrics({ register: r, prefix: 'mb_' });
  return new Set((await r.getMetricsAsJSON()).map((m) => m.name));
}

/** Metric → type, from the first two cells of the rows of the "## Metrics" table in docs/operations.md. */
function documented(): Map<string, string> {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('\n## Metrics\n'), doc.indexOf('\n## ', doc.indexOf('\n## Metrics\n') + 1));
  const out = new Map<string, string>();
  for (const row of section.split('\n').filter((l) => l.startsWith('| `mb_'))) {
    const [, names, type] = row.split('|').map((c) => c.trim());
    for (const m of names!.matchAll(/`(mb_[a-z0-9_]+)`/g)) out.set(m[1]!, type!);
  }
  return out;
}

describe('docs/operations.md ↔ /metrics', () => {
  it('the test sees the exporter: Node defaults and the connectors’ own metrics are there', async () => {
    const defaults = await nodeDefaults();
    expect(defaults.size).toBeGreaterThan(10);
    for (const name of defaults) expect(exported.has(name), name).toBe(true);
    expect(exported.has('mb_kinesis_records_total')).toBe(true);
    expect(exported.has('mb_sheets_write_requests_total')).toBe(true);
  });

  it('documents every exported series, with its type', async () => {
    const defaults = await nodeDefaults();
    const docs = documented();
    const undocumented = [...exported.keys()].filter((n) => !defaults.has(n) && !docs.has(n)).sort();
    expect(undocumented, 'exported but not in the docs/operations.md metrics table').toEqual([]);
    const wrongType = [...docs]
      .filter(([n, type]) => exported.has(n) && exported.get(n) !== type)
      .map(([n, type]) => `${n}: docs say ${type}, exporter ${exported.get(n)}`);
    expect(wrongType).toEqual([]);
  });

  it('exports every documented series', () => {
    const absent = [...documented().keys()].filter((n) => !exported.has(n)).sort();
    expect(absent, 'in the docs/operations.md metrics table but not exported').toEqual([]);
  });

  it('exports each fact once: no duplicate of the generic per-source and per-event series', () => {
    for (const gone of ['mb_route_unrouted_total', 'mb_moments_events_total', 'mb_moments_connected']) expect(exported.has(gone), gone).toBe(false);
    expect(exported.get('mb_route_delivered_total')).toBe('counter');
    expect(exported.get('mb_route_failed_total')).toBe('counter');
  });

  it.skipIf(!promtool)('passes `promtool check metrics`, apart from the Node runtime gauges prom-client names *_total', () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: scraped, encoding: 'utf8' });
    const problems = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(problems.filter((l) => !/^mb_nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l))).toEqual([]);
  });
});
