import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger, logLevelFromEnv } from '../../src/core/log.js';
import { runCli } from '../helpers/cli.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: createLogger({ format: 'json', destination }) };
}

describe('logger secret redaction', () => {
  it('never writes a secret value from the config, whatever field or message carries it', async () => {
    const secret = 'pa$$w0rd-"quoted"-XYZZY-4242';
    await parseConfig(`redis:\n  password: \${REDIS_PW}\n`, '/tmp/c.yaml', { env: { REDIS_PW: secret } });
    const { lines, logger } = capture();
    logger.info({ password: secret }, 'by a secret key name');
    logger.info({ url: `redis://:${secret}@127.0.0.1:6379` }, 'inside another field');
    logger.error({ err: new Error(`auth failed for ${secret}`) }, 'inside an error');
    logger.warn(`in the message itself: ${secret}`);
    logger.info({ nested: { deeper: { value: secret } } }, 'deeply nested');
    expect(lines).toHaveLength(5);
    const all = lines.join('');
    expect(all).not.toContain('XYZZY-4242');
    expect(all.match(/<secret>/g)?.length).toBeGreaterThanOrEqual(5);
  });

  it('hides fields named like secrets even when the value was never registered', () => {
    const { lines, logger } = capture();
    logger.info({ token: 'xoxb-not-registered', connector: { routingKey: 'R0UT1NGKEY' } }, 'x');
    expect(lines[0]).not.toContain('xoxb-not-registered');
    expect(lines[0]).not.toContain('R0UT1NGKEY');
    expect(JSON.parse(lines[0]!)).toMatchObject({ token: '<secret>', connector: { routingKey: '<secret>' } });
  });
});

/**
 * Every secret key name at every depth the logger promises (top level, one and two levels
 * down): a value never registered as a secret is still hidden by its field name. A path pattern
 * dropped from the redaction list leaves one row of this table readable.
 */
const SECRET_KEY_NAMES = [
  'token',
  'password',
  'secret',
  'clientSecret',
  'routingKey',
  'privateKey',
  'private_key',
  'accessToken',
  'authorization',
  'Authorization',
  'apiKey',
];
const DEPTHS: [string, (key: string, value: string) => Record<string, unknown>, string[]][] = [
  ['top level', (k, v) => ({ [k]: v }), []],
  ['one level down', (k, v) => ({ connector: { [k]: v } }), ['connector']],
  ['two levels down', (k, v) => ({ connector: { auth: { [k]: v } } }), ['connector', 'auth']],
];

describe('redaction by field name, at every depth', () => {
  it.each(SECRET_KEY_NAMES.flatMap((key) => DEPTHS.map(([depth, shape, path]) => [key, depth, shape, path] as const)))('%s %s', (key, _depth, shape, path) => {
    const { lines, logger } = capture();
    const value = `unregistered-${key}-VALUE-77`;
    logger.info({ ...shape(key, value), kept: 'visible' }, 'x');
    expect(lines[0]).not.toContain(value);
    let at: unknown = JSON.parse(lines[0]!);
    expect((at as Record<string, unknown>).kept).toBe('visible');
    for (const p of path) at = (at as Record<string, unknown>)[p];
    expect((at as Record<string, unknown>)[key]).toBe('<secret>');
  });
});

describe('LOG_LEVEL', () => {
  it('is read without regard to case or surrounding spaces; unset or empty leaves log.level in charge', () => {
    expect(logLevelFromEnv({ LOG_LEVEL: ' Debug ' })).toBe('debug');
    expect(logLevelFromEnv({ LOG_LEVEL: 'WARN' })).toBe('warn');
    expect(logLevelFromEnv({ LOG_LEVEL: '' })).toBeUndefined();
    expect(logLevelFromEnv({})).toBeUndefined();
    expect(() => logLevelFromEnv({ LOG_LEVEL: 'loud' })).toThrow(expect.objectContaining({ code: 'log_level_invalid' }));
  });

  it('overrides log.level from the config', async () => {
    const yaml = 'log: { level: warn }\n';
    expect((await parseConfig(yaml, '/tmp/c.yaml', { env: {} })).config.log.level).toBe('warn');
    expect((await parseConfig(yaml, '/tmp/c.yaml', { env: { LOG_LEVEL: 'debug' } })).config.log.level).toBe('debug');
    expect((await parseConfig('{}\n', '/tmp/c.yaml', { env: { LOG_LEVEL: 'trace' } })).config.log.level).toBe('trace');
  });

  it('refuses an invalid LOG_LEVEL, naming it and the allowed values (check exits 1)', async () => {
    await expect(parseConfig('{}\n', '/tmp/c.yaml', { env: { LOG_LEVEL: 'verbose' } })).rejects.toThrow(
      'LOG_LEVEL="verbose" is not a log level: use one of trace, debug, info, warn, error, fatal',
    );
    const dir = mkdtempSync(join(tmpdir(), 'mb-log-'));
    writeFileSync(join(dir, 'config.yaml'), '{}\n');
    const result = await runCli(['check', '-c', join(dir, 'config.yaml')], { env: { LOG_LEVEL: 'verbose' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('LOG_LEVEL="verbose" is not a log level');
  }, 30_000);
});
