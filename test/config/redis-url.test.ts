import { describe, expect, it } from 'vitest';
import { ConfigLoadError, formatIssue, parseConfig } from '../../src/config/load-config.js';
import { normalizeRedisUrl, redactRedisUrl, redisUrlProblem, redisUrlWithPassword } from '../../src/config/redis-url.js';

describe('redis.url', () => {
  it.each([
    'embedded',
    'redis://127.0.0.1:6379',
    'redis://:pw@redis.internal:6380/2',
    'rediss://user:pw@cache.example.com:6380',
    'unix:///run/redis/redis.sock',
    '/run/redis/redis.sock',
  ])('accepts %s', (url) => {
    expect(redisUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ['embeded', /did you mean "embedded"\?/],
    ['Embedded ', /did you mean "embedded"\?/],
    ['localhost:6379', /a bare host name is not accepted: write redis:\/\/localhost:6379/],
    ['redis-host', /write redis:\/\/redis-host:6379/],
    ['http://redis:6379', /unsupported scheme "http:"/],
    ['redis:/localhost', /is not a URL: write redis:\/\/host:port/],
    ['unix:relative.sock', /names no socket path/],
  ])('refuses %j', (url, message) => {
    expect(redisUrlProblem(url)).toMatch(message);
  });

  it('is checked by the config schema, at its key, with the closest spelling', async () => {
    const err = await parseConfig('redis:\n  url: embeded\n', '/c.yaml', { env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigLoadError);
    expect((err as ConfigLoadError).issues.map(formatIssue)).toEqual([
      expect.stringMatching(/^\/c\.yaml:2:8 {2}redis\.url {2}"embeded" is not a Redis URL — did you mean "embedded"\?/),
    ]);
  });

  it('normalizes unix:// to the socket path ioredis takes, and adds a password to it as a query option', async () => {
    expect(normalizeRedisUrl('unix:///run/redis.sock')).toBe('/run/redis.sock');
    expect((await parseConfig('redis: { url: "unix:///run/redis.sock" }\n', '/c.yaml', { env: {} })).config.redis.url).toBe('/run/redis.sock');
    expect(redisUrlWithPassword('/run/redis.sock', 'p&w')).toBe('/run/redis.sock?password=p%26w');
    expect(redisUrlWithPassword('redis://h:6379', 'pw')).toBe('redis://:pw@h:6379');
  });

  it('redacts the password of a URL or socket path', () => {
    expect(redactRedisUrl('redis://:hunter2@h:6379/0')).toBe('redis://:<secret>@h:6379/0');
    expect(redactRedisUrl('/run/redis.sock?password=hunter2&db=1')).toBe('/run/redis.sock?password=<secret>&db=1');
    expect(redactRedisUrl('redis://h:6379')).toBe('redis://h:6379');
  });
});
