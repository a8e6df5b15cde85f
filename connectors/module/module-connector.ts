import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import {
  permanent,
  retryable,
  type Connector,
  type ConnectorContext,
  type ConnectorPlugin,
  type Delivery,
  type DeliveryResult,
  type PayloadRenderer,
} from '../connector.js';
import { ConfigValidationError } from '../../src/core/config-error.js';
import { BridgeError, errorMessage, InputError, PayloadError } from '../../src/core/errors.js';
import type { ModuleConfig } from './config.js';

/**
 * Loads a user's connector module and puts a guard around it: the module implements the same
 * ConnectorPlugin API as the built-ins, and a bug in it (a throw, a malformed result) becomes a
 * classified result instead of crashing a worker.
 */
export async function loadModuleConnector(config: ModuleConfig, ctx: ConnectorContext): Promise<Connector> {
  const file = resolve(ctx.configDir, config.path);
  const where = `connector ${ctx.name} (module ${config.path})`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new InputError('module_load_failed', `${where}: cannot load ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const plugin = mod[config.export] as Partial<ConnectorPlugin> | undefined;
  if (!plugin || typeof plugin.create !== 'function') {
    const found = Object.keys(mod).join(', ') || 'nothing';
    throw new InputError(
      'module_invalid',
      `${where}: export "${config.export}" must be a connector plugin { type, configSchema, create(config, ctx) }; the module exports ${found}`,
    );
  }

  let options: unknown = config.options;
  if (plugin.configSchema) {
    const schema = plugin.configSchema as z.ZodObject;
    const input = schema.shape && 'type' in schema.shape ? { type: plugin.type, ...config.options } : config.options;
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      throw new ConfigValidationError(
        parsed.error.issues.map((i) => ({
          path: ['connectors', ctx.name, 'options', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          message: i.message,
        })),
      );
    }
    options = parsed.data;
  }

  let inner: Connector;
  try {
    inner = await plugin.create(options as never, ctx);
  } catch (err) {
    if (err instanceof BridgeError) throw err;
    throw new InputError('module_create_failed', `${where}: create() failed: ${errorMessage(err)}`, { cause: err });
  }
  if (!inner || typeof inner.deliver !== 'function' || typeof inner.renderer !== 'function') {
    throw new InputError('module_invalid', `${where}: create() must return { renderer(overrides), deliver(delivery, signal) }`);
  }
  return new GuardedConnector(inner, where);
}

class GuardedConnector implements Connector {
  readonly defaults: Connector['defaults'];
  readonly deliverBatch?: Connector['deliverBatch'];

  constructor(
    private readonly inner: Connector,
    private readonly where: string,
  ) {
    this.defaults = inner.defaults;
    if (inner.deliverBatch) {
      const batch = inner.deliverBatch.bind(inner);
      this.deliverBatch = async (deliveries, signal) => {
        let results: DeliveryResult[];
        try {
          results = await batch(deliveries, signal);
        } catch (err) {
          return deliveries.map(() => retryable(`${this.where}: deliverBatch threw: ${errorMessage(err)}`));
        }
        if (!Array.isArray(results) || results.length !== deliveries.length) {
          return deliveries.map(() => permanent(`${this.where}: deliverBatch must return one result per delivery`));
        }
        return results.map((r) => this.check(r));
      };
    }
  }

  renderer(overrides?: Record<string, unknown>): PayloadRenderer {
    let inner: PayloadRenderer;
    try {
      inner = this.inner.renderer(overrides);
    } catch (err) {
      if (err instanceof BridgeError) throw err;
      throw new InputError('module_renderer_failed', `${this.where}: renderer() failed: ${errorMessage(err)}`, { cause: err });
    }
    return {
      render: (event) => {
        try {
          return inner.render(event);
        } catch (err) {
          if (err instanceof BridgeError) throw err;
          throw new PayloadError(`${this.where}: render failed for event ${event.id}: ${errorMessage(err)}`, { cause: err });
        }
      },
    };
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      return this.check(await this.inner.deliver(delivery, signal));
    } catch (err) {
      // A throw may be a transient failure the module did not classify: retry, and dead-letter after the attempts.
      return retryable(`${this.where}: deliver threw: ${errorMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private check(result: DeliveryResult): DeliveryResult {
    const status = (result as { status?: unknown } | undefined)?.status;
    if (status === 'delivered' || status === 'retry' || status === 'permanent') return result;
    return permanent(`${this.where}: deliver returned ${JSON.stringify(result)}; expected delivered(), retryable() or permanent()`);
  }
}
