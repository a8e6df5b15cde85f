import { describe, expect, it } from 'vitest';
import { redisSchema } from '../../src/config/schema.js';
import { redisEndpoint } from '../../src/redis/redis-endpoint.js';

/** The first problem zod reports for `input` under `redis`, as `<path>: <message>`. */
function problem(input: unknown): string | undefined {
  const r = redisSchema.safeParse(input);
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}

describe('redis.cluster: seed URLs, or true for hash tags only', () => {
  it.each([
    ['no redis settings: the embedded server, no cluster', {}, { url: 'embedded', cluster: false }],
    [
      'seed nodes, no url',
      { cluster: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'] },
      { url: 'embedded', cluster: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'] },
    ],
    ['true over a url (a cluster proxy)', { url: 'redis://proxy:6379', cluster: true }, { url: 'redis://proxy:6379', cluster: true }],
    [
      'TLS seeds with a natMap',
      { cluster: ['rediss://a.example.com:6380'], natMap: { '10.0.0.5:6379': 'a.example.com:6380' } },
      { natMap: { '10.0.0.5:6379': 'a.example.com:6380' } },
    ],
  ])('accepts %s', (_name, input, expected) => {
    expect(problem(input)).toBeUndefined();
    expect(redisSchema.parse(input)).toMatchObject(expected);
  });

  it.each([
    [
      'a url beside seed nodes',
      { url: 'redis://h:6379', cluster: ['redis://127.0.0.1:7000'] },
      /^url: redis\.url \("redis:\/\/h:6379"\) and the seed nodes of redis\.cluster both say where Redis is: remove redis\.url/,
    ],
    ['url: embedded beside seed nodes', { url: 'embedded', cluster: ['redis://127.0.0.1:7000'] }, /^url: .*remove redis\.url/],
    [
      'cluster: true on the embedded server',
      { cluster: true },
      /^cluster: redis\.cluster: true only hash-tags keys .* the embedded redis-server is not a cluster/,
    ],
    ['an empty seed list', { cluster: [] }, /^cluster: /],
    ['a seed that is not a URL', { cluster: ['127.0.0.1:7000'] }, /^cluster\.0: "127\.0\.0\.1:7000" is not a cluster node URL: write redis:\/\/host:port/],
    ['a seed selecting a database', { cluster: ['redis://h:7000/2'] }, /^cluster\.0: .*a Redis Cluster has database 0 only/],
    ['mixed TLS and plain seeds', { cluster: ['redis://a:7000', 'rediss://b:7000'] }, /^cluster: redis\.cluster mixes redis:\/\/ and rediss:\/\//],
    ['seeds with different passwords', { cluster: ['redis://:one@a:7000', 'redis://:two@b:7000'] }, /^cluster: redis\.cluster seeds carry different passwords/],
    ['a natMap without seeds', { url: 'redis://h:6379', natMap: { 'a:1': 'b:2' } }, /^natMap: redis\.natMap .* needs redis\.cluster to list seed nodes/],
    ['a natMap entry that is not host:port', { cluster: ['redis://a:7000'], natMap: { 'a:1': 'b' } }, /^natMap\.a:1: must be host:port/],
  ])('refuses %s, naming the key', (_name, input, message) => {
    expect(problem(input)).toMatch(message);
  });

  it('a seed password never shows in the message of a bad seed', () => {
    expect(problem({ cluster: ['redis://:hunter2@h:7000/3'] })).not.toContain('hunter2');
  });
});

describe('redisEndpoint: what every connection is made from', () => {
  it('a cluster: the seeds with redis.password applied; --redis names one seed', () => {
    const redis = redisSchema.parse({ cluster: ['redis://a:7000', 'redis://:own@b:7001'], password: 'pw', natMap: { 'x:1': 'y:2' } });
    expect(redisEndpoint(redis, undefined)).toEqual({ kind: 'cluster', seeds: ['redis://:pw@a:7000', 'redis://:own@b:7001'], natMap: { 'x:1': 'y:2' } });
    expect(redisEndpoint(redis, 'redis://c:7002')).toMatchObject({ kind: 'cluster', seeds: ['redis://:pw@c:7002'] });
  });

  it('one Redis: the URL with redis.password applied', () => {
    const redis = redisSchema.parse({ url: 'redis://h:6379', password: 'pw' });
    expect(redisEndpoint(redis, redis.url)).toEqual({ kind: 'single', url: 'redis://:pw@h:6379' });
  });
});
