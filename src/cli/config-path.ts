import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';

export const CONFIG_OPTION_HELP = 'config file (default: ./config.yaml, else ./config.example.yaml)';

/** `-c` if given, else ./config.yaml, else ./config.example.yaml. */
export function resolveConfigPath(given: string | undefined): string {
  if (given) return given;
  for (const candidate of ['config.yaml', 'config.example.yaml']) if (existsSync(candidate)) return candidate;
  throw new InputError('config_missing', 'no config file: pass -c <file>, or create ./config.yaml (copy config.example.yaml to start)');
}
