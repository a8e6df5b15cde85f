import { InputError } from '../core/errors.js';
import { formatPath, type ConfigIssue } from '../core/config-error.js';

/** One problem, located in the file. */
export interface LocatedIssue extends ConfigIssue {
  file: string;
  line: number;
  col: number;
}

/**
 * The config could not be loaded: every problem found, each with file:line:col, in file order.
 * `check` adds its warnings (things `run` accepts but that are likely mistakes), marked as such.
 */
export class ConfigLoadError extends InputError {
  readonly issues: LocatedIssue[];
  readonly warnings: LocatedIssue[];

  constructor(issues: LocatedIssue[], warnings: LocatedIssue[] = []) {
    issues = sortedIssues(issues);
    const lines = sortedIssues([...issues.map((i) => ({ ...i, warning: false })), ...warnings.map((w) => ({ ...w, warning: true }))]).map(formatIssue);
    super('config_invalid', `${heading(issues.length, warnings.length)}:\n${lines.join('\n')}`);
    this.name = 'ConfigLoadError';
    this.issues = issues;
    this.warnings = warnings;
  }
}

function heading(problems: number, warnings: number): string {
  const p = `${problems} problem${problems === 1 ? '' : 's'}`;
  const w = `${warnings} warning${warnings === 1 ? '' : 's'}`;
  if (!warnings) return `${p} in config`;
  return problems ? `${p} and ${w} in config` : `${w} in config (--strict)`;
}

/** `file:line:col  path.to.key  message` — the format `check` prints; warnings say so. */
export function formatIssue(issue: LocatedIssue & { warning?: boolean }): string {
  return `${issue.file}:${issue.line}:${issue.col}  ${formatPath(issue.path)}  ${issue.warning ? 'warning: ' : ''}${issue.message}`;
}

/** File order; stable, so problems at one spot keep the order the stages found them in. */
export function sortedIssues<T extends LocatedIssue>(issues: readonly T[]): T[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
}
