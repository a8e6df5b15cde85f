import type { BridgeConfig } from '../config/schema.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { sourceChanged } from './config-diff.js';
import type { RunningSources } from './running-sources.js';

/**
 * Brings the running sources in line with a reloaded config: only removed, added or changed ones
 * are touched (the others keep their connection); `keep` names sources not from the config file,
 * which a reload never touches. A source that cannot start is logged; the reload still applies.
 * Returns what changed, e.g. `source calls: restarted`.
 */
export async function resyncSources(
  sources: RunningSources,
  prev: BridgeConfig,
  next: BridgeConfig,
  keep: ReadonlySet<string>,
  log: Logger,
): Promise<string[]> {
  const changes: string[] = [];
  for (const name of sources.names()) {
    if (keep.has(name) || !sourceChanged(prev, next, name)) continue;
    await sources.remove(name, log);
    if (!(name in next.sources)) changes.push(`source ${name}: removed`);
  }
  for (const [name, raw] of Object.entries(next.sources)) {
    if (sources.has(name)) continue;
    changes.push(`source ${name}: ${name in prev.sources ? 'restarted' : 'added'}`);
    try {
      await sources.start(name, raw as { type: string });
    } catch (err) {
      log.error({ source: name, err: errorMessage(err) }, `source ${name} could not start after the reload: ${errorMessage(err)}`);
    }
  }
  return changes;
}
