import type { Connector } from '../../connectors/connector.js';
import type { DeliveryOptionsInput } from '../../src/queue/delivery-options-schema.js';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { DeliveryQueues, type DeliveryQueuesOptions } from '../../src/queue/delivery-queues.js';
import type { RoutedDelivery } from '../../src/queue/routed-delivery.js';

export function event(n: number | string, time = new Date().toISOString()): BridgeEvent {
  return { id: `moments:moment:${n}`, source: 'moments', kind: 'moment', time, data: { publicId: String(n), value: 180 } };
}

export function routed(n: number | string, connector = 'sink', route = 'r1'): RoutedDelivery {
  return { event: event(n), route, connector, payload: { text: `moment ${n}` } };
}

export function makeQueues(
  url: string,
  prefix: string,
  connectors: Record<string, { connector: Connector; options?: DeliveryOptionsInput }>,
  extra: Partial<DeliveryQueuesOptions> = {},
): DeliveryQueues {
  const map = new Map(Object.entries(connectors).map(([k, v]) => [k, { connector: v.connector, options: v.options ?? {} }]));
  return new DeliveryQueues({ connection: url, prefix, connectors: map, logger: silentLogger(), ...extra });
}

export { until } from '../helpers/until.js';
