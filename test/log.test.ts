import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/log.js';
import { runCli } from './helpers/cli.js';

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

describe('LOG_LEVEL', () => {
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
