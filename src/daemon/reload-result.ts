import { ConfigValidationError } from '../core/config-error.js';
import { ConfigLoadError, formatIssue, type LoadedConfig } from '../config/load-config.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { recordReload, type ReloadOutcome } from './reload-metrics.js';

/** What a reload did (or why it did not). */
export interface ReloadResult {
  ok: boolean;
  /** `stopping`: not tried, the daemon is shutting down. */
  outcome: ReloadOutcome | 'stopping';
  /** Every problem found, `file:line:col  path  message` where located. */
  errors: string[];
  /** What changed, e.g. `routes: 2 → 3`, `connector hooks: changed`, `source calls: restarted`. */
  changes: string[];
  /** Settings that changed in the file but only apply after a restart. */
  needsRestart: string[];
}

/** Not tried: the daemon is shutting down. */
export function reloadNotTried(): ReloadResult {
  return { ok: false, outcome: 'stopping', errors: ['the daemon is stopping'], changes: [], needsRestart: [] };
}

/** The file could not be read or is invalid: every problem is logged and returned. */
export function reloadRejected(file: string, err: unknown, log: Logger): ReloadResult {
  const errors = err instanceof ConfigLoadError ? err.issues.map(formatIssue) : [errorMessage(err)];
  for (const e of errors) log.error({ file }, `config reload rejected: ${e}`);
  log.error({ file, errors: errors.length }, `config reload rejected (${errors.length} problem(s)); still running the previous config`);
  recordReload('rejected');
  return { ok: false, outcome: 'rejected', errors, changes: [], needsRestart: [] };
}

/** The file is valid but its connectors or routes could not be built; problems are located in `next`'s file where they have a path. */
export function reloadFailed(next: LoadedConfig, err: unknown, needsRestart: string[], log: Logger): ReloadResult {
  const issues = err instanceof ConfigValidationError ? err.issues : [{ path: [] as (string | number)[], message: errorMessage(err) }];
  const errors = issues.map((i) => (i.path.length ? formatIssue({ ...i, file: next.file, ...next.locate(i.path) }) : `${next.file}  ${i.message}`));
  for (const e of errors) log.error({ file: next.file }, `config reload failed: ${e}`);
  log.error({ file: next.file }, 'config reload failed; still running the previous config');
  recordReload('failed');
  return { ok: false, outcome: 'failed', errors, changes: [], needsRestart };
}

export function reloadApplied(file: string, changes: string[], needsRestart: string[], log: Logger): ReloadResult {
  for (const what of needsRestart) log.warn({ section: what }, `config reload: ${what} changed; it applies after a restart`);
  recordReload('applied');
  log.info({ changes }, `config reloaded from ${file}: ${changes.length ? changes.join('; ') : 'no changes'}`);
  return { ok: true, outcome: 'applied', errors: [], changes, needsRestart };
}
