import type { Redis } from 'ioredis';
import type { BridgeEvent } from '../../../src/core/event.js';
import { createLogger } from '../../../src/core/log.js';
import { registry } from '../../../src/core/metrics.js';
import type { QuarantinedItem, SourceContext } from '../../../src/sources/source.js';

export interface Harness {
  ctx: SourceContext;
  events: BridgeEvent[];
  quarantined: Array<Omit<QuarantinedItem, 'source'>>;
  logs: Array<Record<string, unknown>>;
}

/** A SourceContext over a real Redis that records what the source emits, quarantines and logs. */
export function harness(name: string, redis: Redis, configDir = process.cwd()): Harness {
  const events: BridgeEvent[] = [];
  const quarantined: Harness['quarantined'] = [];
  const logs: Harness['logs'] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return {
    events,
    quarantined,
    logs,
    ctx: {
      name,
      redis,
      keyPrefix: 'mbtest:',
      // Bound like the daemon binds it (src/daemon/running-sources.ts).
      logger: logger.child({ source: name }),
      configDir,
      emit: async (event) => {
        events.push(event);
      },
      quarantine: async (item) => {
        quarantined.push(item);
      },
    },
  };
}

/** Polls `check` until it returns a truthy value (condition wait, not a timing assertion). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 8_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Current value of a counter or gauge for `labels`. */
export async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values
    .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
    .reduce((s, v) => s + v.value, 0);
}
