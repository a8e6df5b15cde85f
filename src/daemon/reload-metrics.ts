import { counter, gauge } from '../core/metrics.js';

/** What a config reload came to: applied, rejected (invalid file) or failed (valid file that could not be built). */
export type ReloadOutcome = 'applied' | 'rejected' | 'failed';

// The two gauges follow Prometheus' and Alertmanager's own (`*_config_last_reload_successful`,
// `*_config_last_reload_success_timestamp_seconds`), so their usual alert rules carry over.
const metrics = {
  reloads: counter('mb_config_reloads_total', 'Config reloads (SIGHUP, --watch, POST /-/reload), by result (applied, rejected, failed).', ['result']),
  lastSuccessful: gauge(
    'mb_config_last_reload_successful',
    '1 when the last config load or reload was applied, 0 when it was rejected or failed (the daemon runs the previous config).',
  ),
  lastSuccessAt: gauge('mb_config_last_reload_success_timestamp_seconds', 'Unix time of the last config load (start) or reload that was applied.'),
};

/** The config the daemon started with counts as a successful load. */
export function recordConfigLoaded(at = Date.now()): void {
  metrics.lastSuccessful.set(1);
  metrics.lastSuccessAt.set(Math.floor(at / 1000));
}

export function recordReload(outcome: ReloadOutcome, at = Date.now()): void {
  metrics.reloads.inc({ result: outcome });
  if (outcome === 'applied') recordConfigLoaded(at);
  else metrics.lastSuccessful.set(0);
}
