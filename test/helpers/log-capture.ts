import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../src/core/log.js';

/** A real (pino, JSON) logger whose lines land parsed in `lines`, for tests that check what is logged. */
export function captureLog(level: LogLevel = 'debug'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ format: 'json', destination, level }) };
}
