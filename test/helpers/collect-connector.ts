import type { Connector, Delivery, DeliveryResult, PayloadRenderer } from '../../connectors/connector.js';
import { delivered } from '../../connectors/connector.js';
import { InputError } from '../../src/core/errors.js';
import { compilePayload } from '../../src/templates/template-engine.js';

/**
 * A real, in-memory connector for routing tests: its payload is a template object (e.g.
 * `{ channel: '#ops', text: '{{ data.moment }}' }`) compiled with the shared template engine;
 * routes may override any of its keys and nothing else. Deliveries are collected in `sent`.
 */
export class CollectConnector implements Connector {
  readonly sent: Delivery[] = [];

  constructor(private readonly template: Record<string, unknown>) {}

  renderer(overrides?: Record<string, unknown>): PayloadRenderer {
    for (const key of Object.keys(overrides ?? {})) {
      if (!(key in this.template)) {
        throw new InputError('override_invalid', `unknown override "${key}" (this connector takes: ${Object.keys(this.template).join(', ')})`);
      }
    }
    const compiled = compilePayload({ ...this.template, ...overrides }, 'payload');
    return { render: (event) => compiled.render(event) };
  }

  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    this.sent.push(delivery);
    return delivered();
  }
}
