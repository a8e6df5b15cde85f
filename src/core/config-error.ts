import { InputError } from './errors.js';

/** One problem in the config, located by its path (e.g. `['routes', 2, 'when']`). */
export interface ConfigIssue {
  path: readonly (string | number)[];
  message: string;
}

/**
 * Every problem found in a config at once, so `check` can print them all with file:line:col.
 * Stages that compile parts of the config (routes, templates, connectors) collect their issues
 * and throw one of these, with paths from the config root.
 */
export class ConfigValidationError extends InputError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super('config_invalid', `invalid config: ${issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(root)';
}
