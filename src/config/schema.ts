import { z } from 'zod';
import { connectorPlugins } from '../../connectors/registry.js';
import { deliveryOptionsSchema } from '../queue/delivery-options-schema.js';
import { sourcePlugins } from '../sources/registry.js';
import { routeSchema } from '../routing/route-schema.js';
import { clusterSeedProblem, normalizeRedisUrl, redisTopologyProblems, redisUrlProblem } from './redis-url.js';
import { secretString } from '../core/secret-field.js';
import { durationMsField } from '../core/duration-field.js';
import { LOG_LEVELS } from '../core/log.js';

/**
 * The whole configuration, assembled from the per-source and per-connector schemas in the
 * registries: a new source or connector adds its own schema and appears here, in `check`, in
 * `schema` and in docs/configuration.md.
 */

export const redisSchema = z
  .strictObject({
    url: z
      .string()
      .superRefine((url, ctx) => {
        const problem = redisUrlProblem(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .transform(normalizeRedisUrl)
      .optional()
      .describe(
        '`redis://` or `rediss://` (TLS) URL (password in the URL or `password`), a unix socket (`unix:///path` or `/path`), or `embedded`: the daemon starts a local redis-server with AOF on. Default: `embedded`; leave it out when `cluster` lists seed nodes. @defaultValue embedded',
      ),
    password: secretString('Redis password, when not in the URL (for a cluster: of every node)').optional(),
    dataDir: z.string().default('./.data/redis').describe('Data directory of the embedded redis-server (AOF). @defaultValue ./.data/redis'),
    keyPrefix: z.string().default('mb').describe('Prefix of every Redis key and BullMQ queue the bridge writes. @defaultValue mb'),
    cluster: z
      .union([
        z.boolean(),
        z
          .array(
            z.string().superRefine((url, ctx) => {
              const problem = clusterSeedProblem(url);
              if (problem) ctx.addIssue({ code: 'custom', message: problem });
            }),
          )
          .min(1),
      ])
      .default(false)
      .describe(
        'Redis Cluster. A list of seed node URLs (`redis://host:7000`, `rediss://` for TLS; one reachable node is enough, the others are discovered): the daemon and the CLI connect to the cluster, every queue and every source keeps its keys in one slot (hash tags), and queues are found on every master. `true`: hash tags only, over `url` (a proxy that speaks for a cluster). @defaultValue false',
      ),
    natMap: z
      .record(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port'), z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port'))
      .optional()
      .describe(
        'Redis Cluster behind NAT (Docker, Kubernetes): the address a node announces (`10.0.0.5:6379`) → the address to reach it at (`redis-1.example.com:6379`).',
      ),
    dedupTtl: durationMsField(
      'How long each delivery id stays claimed after its first enqueue, so a replay, back-fill or second replica inside this window is a duplicate. Costs Redis ≈ 20 bytes per delivery for this long (up to 1/12 longer: time buckets; docs/operations.md, Memory sizing)',
      '24h',
    ).superRefine((ms, ctx) => {
      if (ms < 1000) ctx.addIssue({ code: 'custom', message: `must be at least 1s (got ${ms} ms)` });
    }),
  })
  .superRefine((redis, ctx) => {
    for (const problem of redisTopologyProblems(redis)) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.key] });
  })
  // `url` has no schema default so that a cluster list beside an explicit `url` can be refused.
  .transform(({ url, ...rest }) => ({ ...rest, url: url ?? 'embedded' }))
  .describe('Where jobs, cursors and dedup state live.');

export const serverSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve /healthz, /readyz, /metrics and the dashboard. @defaultValue true'),
    host: z.string().default('127.0.0.1').describe('Bind address. Keep 127.0.0.1 unless a proxy with auth sits in front. @defaultValue 127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(9464).describe('HTTP port (0 = any free port). @defaultValue 9464'),
    adminToken: secretString('Bearer token for the queue dashboard at /admin/queues; without it the dashboard is off').optional(),
    dashboard: z
      .strictObject({
        writable: z
          .boolean()
          .default(false)
          .describe(
            'Allow the dashboard to change queues: add jobs, edit job data (a job carries its own delivery URL), retry, promote, clean, pause, empty. Off, it only shows them; `moments-bridge dlq retry|purge` still re-drives dead letters. @defaultValue false',
          ),
      })
      .prefault({})
      .describe('The queue dashboard at /admin/queues.'),
    stallAfter: durationMsField(
      '/readyz turns 503 when a source has items waiting and made no progress (nothing accepted into the queue) for longer than this, e.g. a batch that keeps failing',
      '2m',
    ),
  })
  .describe('The operations HTTP server.');

export const logSchema = z
  .strictObject({
    level: z.enum(LOG_LEVELS).default('info').describe('Log level; `LOG_LEVEL` in the environment overrides it. @defaultValue info'),
    format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('`auto`: pretty in a TTY, JSON otherwise. @defaultValue auto'),
  })
  .describe('Logging (pino).');

export const shutdownSchema = z
  .strictObject({
    grace: durationMsField('How long SIGTERM/SIGINT waits for in-flight deliveries before handing them back to the queue', '10s'),
  })
  .describe('Graceful shutdown.');

export const leadershipSchema = z
  .strictObject({
    readers: z
      .enum(['leader', 'every-replica'])
      .default('leader')
      .describe(
        "Who reads each source when several replicas share one Redis. `leader`: one replica at a time holds the source's lease in Redis and reads it; the others deliver and stand by, taking the source over (back-filling from the shared cursor) within `leaseTtl` + `renewEvery` after the leader dies — one upstream connection and one parse per item. `every-replica`: every replica reads every source and the seen set drops the copies (hot-hot: no take-over gap, N× upstream connections and source CPU). @defaultValue leader",
      ),
    leaseTtl: durationMsField(
      "How long a source's lease lasts without renewal: a dead leader's source is taken over after at most this plus `renewEvery`",
      '6s',
    ),
    renewEvery: durationMsField(
      'How often the leader renews its leases and a stand-by tries to take a free one; less than `leaseTtl` (a third of it leaves room for two missed renewals)',
      '2s',
    ),
    replicaId: z
      .string()
      .min(1)
      .optional()
      .describe(
        "This replica's name in leases, /readyz and logs, unique among the replicas (a further daemon in the same process gets `#2`, `#3`… appended to the default). @defaultValue <hostname>:<pid>",
      ),
  })
  .superRefine((l, ctx) => {
    if (l.renewEvery <= 0) ctx.addIssue({ code: 'custom', path: ['renewEvery'], message: `must be more than 0 (got ${l.renewEvery} ms)` });
    if (l.renewEvery >= l.leaseTtl)
      ctx.addIssue({
        code: 'custom',
        path: ['renewEvery'],
        message: `leadership.renewEvery (${l.renewEvery} ms) must be less than leadership.leaseTtl (${l.leaseTtl} ms): a leader renewing that late loses its lease between renewals; e.g. renewEvery: ${Math.max(1, Math.floor(l.leaseTtl / 3))}ms`,
      });
  })
  .describe('How replicas share the reading of the sources (docs/operations.md, Replicas and source leadership).');

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const nameKey = z.string().regex(NAME, 'names use letters, digits, "_", "-" and "."');

function unionByType<T extends z.ZodObject>(schemas: T[], what: string): z.ZodType {
  if (schemas.length === 0) return z.never().describe(`no ${what} types are registered`);
  if (schemas.length === 1) return schemas[0]!;
  return z.discriminatedUnion('type', schemas as [T, T, ...T[]]);
}

export function sourceConfigSchema(): z.ZodType {
  return unionByType(
    [...sourcePlugins.values()].map((p) => p.configSchema as z.ZodObject),
    'source',
  ).describe('One upstream subscription; `type` selects the kind.');
}

export function connectorConfigSchema(): z.ZodType {
  return unionByType(
    [...connectorPlugins.values()].map((p) => z.strictObject({ ...(p.configSchema as z.ZodObject).shape, ...deliveryOptionsSchema.shape })),
    'connector',
  ).describe('One sink; `type` selects the kind. Every connector also takes the delivery options (concurrency, rateLimit, partitions, retry, timeout, batch).');
}

export function configSchema() {
  return z
    .strictObject({
      redis: redisSchema.prefault({}),
      sources: z.record(nameKey, sourceConfigSchema()).default({}).describe('Upstream subscriptions, by name (the `source` of their events).'),
      connectors: z.record(nameKey, connectorConfigSchema()).default({}).describe('Sinks, by name (what routes deliver `to`).'),
      routes: z.array(routeSchema).default([]).describe('Rules, in order: which events go to which connectors, rendered how.'),
      server: serverSchema.prefault({}),
      log: logSchema.prefault({}),
      shutdown: shutdownSchema.prefault({}),
      leadership: leadershipSchema.prefault({}),
    })
    .describe('moments-bridge configuration');
}

export type BridgeConfig = z.output<ReturnType<typeof configSchema>>;
export type RedisConfig = z.output<typeof redisSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
