import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { compileRouter, createConnectors } from '../../pipeline/assemble.js';
import type { LoadedConfig } from '../../config/load-config.js';
import { InputError } from '../../core/errors.js';
import type { BridgeEvent } from '../../core/event.js';
import { silentLogger } from '../../core/log.js';
import { formatExplanation } from '../../routing/format-explanation.js';
import type { RouteExplanation } from '../../routing/route-explainer.js';
import type { Router } from '../../routing/router.js';
import { CONFIG_OPTION_HELP, resolveConfigPath } from '../config-path.js';
import { loadOfflineConfig } from '../../config/load-offline-config.js';

/**
 * Compiles a config's connectors and routes with a Redis handle that never connects: `route`
 * and `test` explain decisions without touching Redis or any sink.
 */
export async function offlineRouter(loaded: LoadedConfig): Promise<{ router: Router; close(): Promise<void> }> {
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const deps = { redis, keyPrefix: `${loaded.config.redis.keyPrefix}:`, logger: silentLogger(), configDir: loaded.configDir };
  const connectors = await createConnectors(loaded.config, deps);
  return {
    router: compileRouter(loaded.config, connectors, deps),
    async close() {
      await Promise.all([...connectors.values()].map((e) => e.connector.close?.()));
      redis.disconnect();
    },
  };
}

/** Parses an event from JSON text; `id` and `time` are filled in when missing. */
export function parseEvent(text: string, where: string, nowMs = Date.now()): BridgeEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError('event_invalid', `${where}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const e = raw as Partial<BridgeEvent> | null;
  if (!e || typeof e !== 'object' || typeof e.source !== 'string' || typeof e.kind !== 'string') {
    throw new InputError(
      'event_invalid',
      `${where}: an event is a JSON object with at least "source" and "kind" (and usually "data"), e.g. {"source":"moments","kind":"moment","data":{…}}`,
    );
  }
  return { id: e.id ?? `${e.source}:${e.kind}:dry-run`, source: e.source, kind: e.kind, time: e.time ?? new Date(nowMs).toISOString(), data: e.data ?? {} };
}

/** The decision for one event, with no side effects. */
export function explainRoute(router: Router, event: BridgeEvent, nowMs?: number): RouteExplanation {
  return router.explain(event, nowMs === undefined ? {} : { now: nowMs });
}

export function register(program: Command): void {
  program
    .command('route')
    .description(
      'Dry-run one event through the routes: each route, matched or why not (which matcher failed), and the rendered payloads. Touches no Redis and no sink.',
    )
    .option('-c, --config <file>', CONFIG_OPTION_HELP)
    .option('-e, --event <file>', 'JSON file with the event ({ source, kind, data, id?, time? }); default: stdin')
    .option('--at <iso-time>', 'the clock for activeTimes (default: now)')
    .option('--json', 'print the explanation as JSON')
    .action(async (opts: { config?: string; event?: string; at?: string; json?: boolean }) => {
      const nowMs = opts.at !== undefined ? Date.parse(opts.at) : undefined;
      if (nowMs !== undefined && Number.isNaN(nowMs)) throw new InputError('argument_invalid', `--at ${opts.at}: not an ISO time such as 2025-03-04T22:00:00Z`);
      const where = opts.event ?? 'stdin';
      let text: string;
      try {
        text = readFileSync(opts.event ?? 0, 'utf8');
      } catch (err) {
        throw new InputError('event_unreadable', `cannot read the event from ${where}: ${(err as Error).message}`, { cause: err });
      }
      const event = parseEvent(text, where, nowMs);
      const { loaded, standIns } = await loadOfflineConfig(resolveConfigPath(opts.config), { keep: ['routes'], validate: true });
      if (standIns.length) process.stderr.write(`route: unset ${standIns.join(', ')}: stand-ins used (a dry run connects to nothing)\n`);
      const { router, close } = await offlineRouter(loaded);
      try {
        const x = explainRoute(router, event, nowMs);
        process.stdout.write(`${opts.json ? JSON.stringify(x, null, 2) : formatExplanation(x)}\n`);
      } finally {
        await close();
      }
    });
}

export { register as registerRoute };
