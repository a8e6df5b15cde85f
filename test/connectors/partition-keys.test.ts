import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, ConnectorPlugin } from '../../connectors/connector.js';
import { connectorPlugins } from '../../connectors/registry.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { TEST_CREDENTIALS } from '../../simulators/sinks/kinesis/kinesalite-server.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { connectorContext, momentEvent, withSummary } from './fixtures.js';

/**
 * Each connector's partition key (what `partitions: N` keeps together): read from what its renderer
 * produced, the same on every render of the same event, and different where the sink's order is.
 */
let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startTestRedis();
  client = redis.client();
});
afterAll(async () => {
  await redis.stop();
});

async function make(type: string, config: Record<string, unknown>): Promise<Connector> {
  const plugin = connectorPlugins.get(type) as ConnectorPlugin;
  return plugin.create(plugin.configSchema.parse({ type, ...config }), connectorContext(client));
}

const other: BridgeEvent = withSummary({ ...momentEvent, id: 'moments:moment:m-2002', data: { ...(momentEvent.data as object), athleteId: 'ath-9' } });

/** The partition key of `event` rendered through a route with `overrides`, asked twice (it must not change). */
function keyOf(c: Connector, event: BridgeEvent, overrides: Record<string, unknown> = {}): string | undefined {
  const r = c.renderer(overrides);
  const first = c.partitionKey?.(r.render(event), event);
  expect(c.partitionKey?.(r.render(event), event)).toBe(first);
  return first;
}

describe('partition keys', () => {
  it('Slack: the channel the message goes to', async () => {
    const c = await make('slack', { token: 'xoxb-test-token-1234567890', apiUrl: 'http://127.0.0.1:9/api/', channel: '#ops' });
    expect(keyOf(c, momentEvent)).toBe('#ops');
    expect(keyOf(c, other)).toBe('#ops');
    expect(keyOf(c, momentEvent, { channel: '#athlete-{{ data.athleteId }}' })).toBe('#athlete-ath-7');
    expect(keyOf(c, other, { channel: '#athlete-{{ data.athleteId }}' })).toBe('#athlete-ath-9');
  });

  it('PagerDuty: the dedup key (trigger, acknowledge and resolve of one alert stay in order)', async () => {
    const c = await make('pagerduty', { routingKey: 'R0UT1NGKEY0123456789abcdefABCDEF', url: 'http://127.0.0.1:9/v2/enqueue' });
    expect(keyOf(c, momentEvent, { dedupKey: 'hr-{{ data.athleteId }}' })).toBe('hr-ath-7');
    expect(keyOf(c, momentEvent, { dedupKey: 'hr-{{ data.athleteId }}', eventAction: 'resolve' })).toBe('hr-ath-7');
    expect(keyOf(c, momentEvent)).not.toBe(keyOf(c, other));
  });

  it('Kinesis: the record partition key; unset (a random key per record), the event id', async () => {
    const c = await make('kinesis', { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: TEST_CREDENTIALS, stream: 's' });
    expect(keyOf(c, momentEvent, { partitionKey: '{{ data.athleteId }}' })).toBe('ath-7');
    expect(keyOf(c, momentEvent)).toBe(momentEvent.id);
    expect(keyOf(c, other)).toBe(other.id);
    // The record still gets a random key (as lk-dispatch does); only the queue partition is stable.
    const [a, b] = [c.renderer().render(momentEvent), c.renderer().render(momentEvent)] as { partitionKey: string }[];
    expect(a!.partitionKey).not.toBe(b!.partitionKey);
  });

  it('Sheets: the tab (one per connector)', async () => {
    const c = await make('sheets', {
      spreadsheetId: 'sheet-1',
      sheet: 'Moments',
      rootUrl: 'http://127.0.0.1:9/',
      accessToken: 'ya29.test',
      columns: { M: '{{ data.moment }}' },
    });
    expect(keyOf(c, momentEvent)).toBe('Moments');
    expect(keyOf(c, other)).toBe('Moments');
  });

  it('webhook: none (the queue uses the event id)', async () => {
    const c = await make('webhook', { url: 'http://127.0.0.1:9/hook', allowPrivateNetworks: true });
    expect(c.partitionKey).toBeUndefined();
  });
});
