import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { loadValidatedConfig } from '../../../src/config/load-validated-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import { createLogger, type Logger } from '../../../src/core/log.js';
import { simulatorSourceConfig, type MomentsSimulator } from '../../../simulators/moments/moments-simulator.js';
import { writeConfig } from '../../helpers/daemon-kit.js';

/** A logger whose JSON lines land in `lines` (level debug: every line a flood could write counts). */
export function capturingLogger(): { logger: Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: createLogger({ destination, level: 'debug', format: 'json' }), lines };
}

export interface MomentsDaemonOptions {
  redisUrl: string;
  sim: MomentsSimulator;
  sinkUrl: string;
  keyPrefix?: string;
  stallAfter?: string;
  logger?: Logger;
  source?: Record<string, unknown>;
}

/**
 * An in-process daemon: the moments source on `sim`, every event (moments and trigger changes)
 * routed to a webhook posting `{ id }` to `sinkUrl` (the chaos sink counts them).
 */
export async function startMomentsDaemon(o: MomentsDaemonOptions): Promise<Daemon> {
  const config = {
    redis: { url: o.redisUrl, keyPrefix: o.keyPrefix ?? 'mb' },
    sources: { moments: simulatorSourceConfig(o.sim, { reconnect: { initialDelay: '50ms', maxDelay: '400ms' }, ...o.source }) },
    connectors: {
      hook: {
        type: 'webhook',
        url: o.sinkUrl,
        allowPrivateNetworks: true,
        body: { id: '{{ id }}' },
        retry: { backoff: '100ms', maxBackoff: '500ms', maxAttempts: 100 },
        timeout: '5s',
      },
    },
    routes: [{ name: 'everything', match: { kind: ['moment', 'trigger.created', 'trigger.updated'] }, to: ['hook'] }],
    server: { port: 0, host: '127.0.0.1', ...(o.stallAfter ? { stallAfter: o.stallAfter } : {}) },
    shutdown: { grace: '1s' },
  };
  const loaded = await loadValidatedConfig(writeConfig(stringify(config)));
  return Daemon.start({ loaded, logger: o.logger ?? createLogger({ level: 'silent', format: 'json' }) });
}
