import type { Connector, Delivery, DeliveryResult, PayloadRenderer } from '../../connectors/connector.js';
import { classifyHttpResponse, networkFailure, readResponseText } from '../../connectors/lib/http-result.js';

/**
 * A minimal real HTTP connector for queue tests: POSTs the payload as JSON to `url` with the
 * delivery id in `x-delivery-id` and the attempt in `x-attempt`, and classifies the answer with
 * the shared HTTP classifier (so 429 + Retry-After becomes retry-after, 400 permanent, …).
 */
export class HttpPostConnector implements Connector {
  constructor(private readonly url: string) {}

  renderer(): PayloadRenderer {
    return { render: (event) => ({ id: event.id }) };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-delivery-id': delivery.id, 'x-attempt': String(delivery.attempt) },
        body: JSON.stringify(delivery.payload),
        signal,
      });
      const body = await readResponseText(res);
      return classifyHttpResponse(res.status, res.headers, body);
    } catch (err) {
      return networkFailure(err);
    }
  }
}
