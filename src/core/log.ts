import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { InputError } from './errors.js';
import { LOG_REDACTION } from './log-redaction.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * `LOG_LEVEL` from the environment, which wins over the config's `log.level` (turn on debug for
 * one run without editing the file); undefined when unset. A value pino does not know is refused
 * here, with the allowed ones, rather than by pino's bare "unknown level".
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel | undefined {
  const value = env.LOG_LEVEL;
  if (value === undefined || value === '') return undefined;
  const level = LOG_LEVELS.find((l) => l === value.trim().toLowerCase());
  if (!level)
    throw new InputError(
      'log_level_invalid',
      `LOG_LEVEL=${JSON.stringify(value)} is not a log level: use one of ${LOG_LEVELS.join(', ')}, or unset it to use log.level from the config`,
    );
  return level;
}

export interface LoggerOptions {
  /** pino level. @defaultValue `LOG_LEVEL` from the environment, else `info` */
  level?: string;
  /** `json`, `pretty`, or `auto` (pretty when stdout is a TTY). @defaultValue `auto` */
  format?: 'json' | 'pretty' | 'auto';
  /** Where lines go. @defaultValue stdout */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && !options.destination && process.stdout.isTTY === true);
  const destination =
    options.destination ??
    (usePretty ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }) : pino.destination({ sync: true }));
  return pino(
    {
      level: options.level ?? logLevelFromEnv() ?? 'info',
      base: undefined,
      ...LOG_REDACTION,
    },
    destination,
  );
}

/** A logger that writes nothing: for library use and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
