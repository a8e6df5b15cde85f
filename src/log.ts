import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from './secrets.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level. @defaultValue `info` */
  level?: string;
  /** `json`, `pretty`, or `auto` (pretty when stdout is a TTY). @defaultValue `auto` */
  format?: 'json' | 'pretty' | 'auto';
  /** Where lines go. @defaultValue stdout */
  destination?: DestinationStream;
}

/** Field names whose values are always hidden, whatever their value. */
const SECRET_KEYS = ['token', 'password', 'secret', 'clientSecret', 'routingKey', 'privateKey', 'private_key', 'accessToken', 'authorization', 'Authorization', 'apiKey'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && !options.destination && process.stdout.isTTY === true);
  const destination =
    options.destination ??
    (usePretty ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }) : pino.destination({ sync: true }));
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '<secret>' },
      hooks: { streamWrite: redactSecrets },
    },
    destination,
  );
}

/** A logger that writes nothing: for library use and tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
