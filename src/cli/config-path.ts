import { existsSync } from 'node:fs';
import { InputError } from '../core/errors.js';

export const CONFIG_OPTION_HELP = 'config file (default: ./config.yaml, else ./config.example.yaml)';

/** `-c` if given, else ./config.yaml, else ./config.example.yaml, else undefined. */
export function findConfigPath(given: string | undefined): string | undefined {
  if (given) return given;
  return ['config.yaml', 'config.example.yaml'].find((candidate) => existsSync(candidate));
}

/** `-c` if given, else ./config.yaml, else ./config.example.yaml. */
export function resolveConfigPath(given: string | undefined): string {
  const found = findConfigPath(given);
  if (found) return found;
  throw new InputError('config_missing', 'no config file: pass -c <file>, or create ./config.yaml (copy config.example.yaml to start)');
}
