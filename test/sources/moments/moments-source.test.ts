import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import type { BridgeEvent } from '../../../src/core/event.js';
import { createLogger } from '../../../src/core/log.js';
import type { QuarantinedItem, Source, SourceContext } from '../../../src/sources/source.js';
import { momentsSource } from '../../../src/sources/moments/index.js';
import { configuredDocuments } from '../../../src/sources/moments/source-config.js';
import {
  simulatorSourceConfig,
  startMomentsSimulator,
  type MomentsSimulator,
  type MomentsSimulatorOptions,
} from '../../../simulators/moments/moments-simulator.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { until } from '../../helpers/until.js';

let redis: TestRedis;
let sim: MomentsSimulator;
let events: BridgeEvent[];
let quarantined: Array<Omit<QuarantinedItem, 'source'>>;
let logLines: string[];
let failEmits: boolean;
const sources: Source[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  events = [];
  quarantined = [];
  logLines = [];
  failEmits = false;
});
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await sim?.stop();
});

async function startSim(options: MomentsSimulatorOptions = {}): Promise<MomentsSimulator> {
  sim = await startMomentsSimulator({ connectionTimeoutMs: 2000, keepAliveIntervalMs: 300, ...options });
  return sim;
}

function context(configDir = process.cwd()): SourceContext {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString());
      cb();
    },
  });
  return {
    name: 'moments',
    redis: redis.client(),
    keyPrefix: 'mb:',
    logger: createLogger({ destination, level: 'debug', format: 'json' }),
    configDir,
    async emit(event) {
      // Resolve "once safely enqueued": yield to the event loop like a Redis round trip would.
      await new Promise((r) => setImmediate(r));
      if (failEmits) throw new Error('redis unavailable (test)');
      events.push(event);
    },
    async quarantine(item) {
      quarantined.push(item);
    },
  };
}

function createSource(overrides: Record<string, unknown> = {}, configDir?: string): Source {
  const config = momentsSource.configSchema.parse(
    simulatorSourceConfig(sim, { reconnect: { initialDelay: '50ms', maxDelay: '300ms' }, pageSize: 7, ...overrides }),
  );
  const source = momentsSource.create(config, context(configDir));
  sources.push(source);
  return source;
}

/** The documents block of docs/moments-engine.md (the example for an engine that hides its schema). */
function documentedVendorDocuments(): Record<string, string> {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/moments-engine.md', import.meta.url)), 'utf8');
  const block = /<!-- vendor-documents:start -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/moments-engine.md lost its vendor-documents block');
  return (parseYaml(block) as { documents: Record<string, string> }).documents;
}

const momentIds = () => events.filter((e) => e.kind === 'moment').map((e) => e.id);

describe('moments source', () => {
  it('holds live moments that arrive before every subscription is acknowledged until the start back-fill ran', async () => {
    // Moments made while the bridge was down, then live ones on the new socket while one
    // subscription is still unacknowledged: processing a live one first would move the cursor
    // past the older ones, and the back-fill from that cursor would never see them.
    await startSim();
    const base = Date.now() - 60_000;
    const older = Array.from(
      { length: 10 },
      (_, i) => sim.control.createMoment({ athleteId: 100 + i, createdAt: new Date(base + i * 1000).toISOString() }, { live: false }).publicId,
    );
    sim.control.delayStartAck('onUpdateTrigger', 600);
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBeGreaterThanOrEqual(1), { timeout: 5000, interval: 10 });
    const live = Array.from({ length: 5 }, (_, i) => sim.control.createMoment({ athleteId: 200 + i }).publicId);
    await vi.waitFor(() => expect(momentIds()).toHaveLength(15), { timeout: 8000, interval: 20 });
    expect(momentIds()).toEqual([...older, ...live].map((id) => `moments:moment:${id}`));
  });

  it('gap test: 100 moments, two socket drops, 30 made while disconnected, one restart → exactly 100 events', async () => {
    await startSim();
    const created: string[] = [];
    const make = (n: number, live = true) => {
      for (let i = 0; i < n; i++) created.push(sim.control.createMoment({ athleteId: created.length }, { live }).publicId);
    };
    const waitFor = (n: number) => vi.waitFor(() => expect(momentIds().length).toBe(n), { timeout: 8000, interval: 20 });

    let source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    make(20);
    await waitFor(20);

    // Drop 1: the endpoint stays down while 10 moments are made (their live notifications are lost).
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    make(10);
    await vi.waitFor(() => expect(source.state().status).toBe('reconnecting'));
    sim.control.refuseRealtime(false);
    await waitFor(30);
    make(20);
    await waitFor(50);

    // Restart: a new source on the same Redis picks up from the stored cursor.
    await source.stop();
    make(10);
    source = createSource();
    await source.start();
    await waitFor(60);
    make(15);
    await waitFor(75);

    // Drop 2, and live moments keep coming while the back-fill runs (they are buffered, then drained).
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    make(10);
    await vi.waitFor(() => expect(source.state().status).toBe('reconnecting'));
    sim.control.refuseRealtime(false);
    for (let i = 0; i < 15; i++) {
      make(1);
      await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(100);
    await new Promise((r) => setTimeout(r, 300)); // nothing late or twice

    const ids = momentIds();
    expect(created).toHaveLength(100);
    expect(ids).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    expect(new Set(ids)).toEqual(new Set(created.map((id) => `moments:moment:${id}`)));
    // Order holds too: every event is at or after the previous one.
    const times = events.map((e) => e.time);
    expect([...times].sort()).toEqual(times);
    // The 30 moments whose live notifications were lost can only have come from back-fill.
    const backfills = logLines.map((l) => JSON.parse(l) as { msg: string; emitted?: number; reason?: string }).filter((l) => l.msg.includes('back-fill ('));
    expect(backfills.filter((l) => l.reason === 'reconnect')).toHaveLength(2);
    expect(backfills.reduce((n, l) => n + (l.emitted ?? 0), 0)).toBeGreaterThanOrEqual(30);
  });

  it('bounds the first back-fill by `backfill` and resumes from the cursor afterwards', async () => {
    await startSim();
    const old = sim.control.createMoment({ createdAt: new Date(Date.now() - 60 * 60_000).toISOString() }, { live: false });
    const recent = sim.control.createMoment({ createdAt: new Date(Date.now() - 60_000).toISOString() }, { live: false });
    const source = createSource({ backfill: '15m' });
    await source.start();
    await vi.waitFor(() => expect(momentIds()).toEqual([`moments:moment:${recent.publicId}`]));
    expect(momentIds()).not.toContain(`moments:moment:${old.publicId}`);
    const cursor = await redis.client().hgetall('mb:source:moments:cursor');
    // The trigger watermark lives next to the cursor; with no trigger upstream it starts at the epoch.
    expect(cursor).toEqual({ createdAt: recent.createdAt, ids: JSON.stringify([recent.publicId]), triggersUpdatedAt: '1970-01-01T00:00:00.000Z' });
    expect(await new SeenWindow(redis.client(), 'mb:source:moments:', 86_400_000).seenMany([recent.publicId, old.publicId])).toEqual([true, false]);
    expect(await redis.client().pttl('mb:source:moments:seenw')).toBeGreaterThan(23 * 3600_000);
  });

  it('keeps the cursor when emit fails and delivers everything once the pipeline is back', async () => {
    await startSim();
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    const first = sim.control.createMoment();
    await vi.waitFor(() => expect(momentIds()).toHaveLength(1));
    failEmits = true;
    const during = [sim.control.createMoment(), sim.control.createMoment(), sim.control.createMoment()];
    await vi.waitFor(() => expect(logLines.join('')).toMatch(/could not hand a moment to the pipeline, will back-fill/));
    expect(await redis.client().hget('mb:source:moments:cursor', 'createdAt')).toBe(first.createdAt);
    failEmits = false;
    await vi.waitFor(() => expect(momentIds()).toHaveLength(4), { timeout: 5000 });
    expect(momentIds().slice(1)).toEqual(during.map((m) => `moments:moment:${m.publicId}`));
  });

  it('while hand-overs keep failing: not `connected`, lastError says why, progress shows the waiting moments and the cursor lag; connected again once they pass', async () => {
    await startSim();
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    const first = sim.control.createMoment();
    await vi.waitFor(() => expect(momentIds()).toHaveLength(1));
    failEmits = true;
    sim.control.createMoment();
    sim.control.createMoment();
    await vi.waitFor(() => expect(source.state()).toMatchObject({ status: 'reconnecting', lastError: expect.stringMatching(/redis unavailable \(test\)/) }));
    const p = source.progress!();
    expect(p.pending).toBeGreaterThanOrEqual(1);
    expect(p.oldestPendingSince).toBeLessThanOrEqual(Date.now());
    expect(p.lagMs).toBeGreaterThanOrEqual(Date.now() - Date.parse(first.createdAt) - 1000);
    failEmits = false;
    await vi.waitFor(() => expect(momentIds()).toHaveLength(3), { timeout: 5000 });
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    expect(source.progress!()).toMatchObject({ pending: 0, lagMs: 0 });
  });

  it('fills in trigger name, marker and labels, and emits trigger.created / trigger.updated', async () => {
    await startSim();
    const known = sim.control.createTrigger({ name: 'HR > 170', marker: { color: 'red', icon: '❤️' }, labels: ['physio'] });
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    sim.control.createMoment({ triggerPublicId: known.publicId });
    // A trigger the cache has never seen is fetched with getTrigger.
    const hidden = sim.control.createTrigger({ name: 'Speed > 35', marker: { color: 'yellow', icon: '⚡' }, labels: ['speed'] }, { live: false });
    sim.control.createMoment({ triggerPublicId: hidden.publicId, triggerName: 'Speed (own name)' });
    const fresh = sim.control.createTrigger({ name: 'Power > 400 W' });
    const updated = sim.control.updateTrigger(fresh.publicId, { isActive: 0, updatedAt: new Date(Date.now() + 1000).toISOString() });
    await vi.waitFor(() => expect(events).toHaveLength(4));
    const moments = events.filter((e) => e.kind === 'moment');
    expect(moments[0]!.data).toMatchObject({ triggerName: 'HR > 170', triggerMarker: { color: 'red', icon: '❤️' }, labels: ['physio'] });
    expect(moments[1]!.data).toMatchObject({ triggerName: 'Speed (own name)', triggerMarker: { color: 'yellow', icon: '⚡' }, labels: ['speed'] });
    expect(events.find((e) => e.kind === 'trigger.created')).toMatchObject({
      id: `moments:trigger.created:${fresh.publicId}`,
      time: fresh.createdAt,
      data: { name: 'Power > 400 W', isActive: 1 },
    });
    expect(events.find((e) => e.kind === 'trigger.updated')).toMatchObject({
      id: `moments:trigger.updated:${fresh.publicId}@${updated.updatedAt}`,
      time: updated.updatedAt,
      data: { isActive: 0 },
    });
  });

  it('quarantines invalid moments instead of dropping them silently', async () => {
    await startSim();
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    sim.control.createMoment({ publicId: '' });
    const good = sim.control.createMoment();
    await vi.waitFor(() => expect(momentIds()).toEqual([`moments:moment:${good.publicId}`]));
    expect(quarantined).toEqual([
      expect.objectContaining({ kind: 'moment', raw: expect.objectContaining({ publicId: '' }), reason: expect.stringMatching(/publicId/) }),
    ]);
  });

  it('an engine that refuses introspection, with no documents in config: stays down with one message naming the key', async () => {
    await startSim({ introspection: false });
    const source = createSource();
    await source.start();
    expect(source.state()).toMatchObject({
      status: 'auth_failed',
      error: expect.stringMatching(
        /^listMoments: the engine refused introspection \(.+\) and sources\.moments\.documents\.listMoments is not set: add the query there .*\(also: onCreateMoment, listTriggers, getTrigger, onCreateTrigger, onUpdateTrigger\)$/,
      ),
    });
    expect(logLines.filter((l) => l.includes('no usable GraphQL document, not retrying'))).toHaveLength(1);
    expect(sim.control.stats().realtimeConnections).toBe(0);
  });

  it('a subscription the engine refuses: `degraded` with the reason and the config key, and moments still arrive by periodic back-fill', async () => {
    // Introspection off: the documents come from config, unchecked until the engine answers.
    await startSim({ introspection: false });
    const documents = { ...documentedVendorDocuments(), onCreateMoment: 'subscription OnCreateMoment { onCreateMoment { publicId createdAt noSuchField } }' };
    const source = createSource({ backfillEvery: '300ms', documents });
    await source.start();
    await until(() => source.state().status === 'degraded', 5_000);
    expect(source.state()).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/onCreateMoment refused \(.*sources\.moments\.documents\.onCreateMoment.*\) — polling with a back-fill every 300 ms/),
    });
    const made = [1, 2, 3, 4, 5].map(() => sim.control.createMoment().publicId);
    await until(() => made.every((id) => momentIds().includes(`moments:moment:${id}`)), 5_000);
    expect(new Set(momentIds()).size).toBe(momentIds().length);
    expect(source.state().status).toBe('degraded');
    expect(logLines.filter((l) => l.includes('degraded:'))).toHaveLength(1);
  });

  it('a wrong password → auth_failed, one error line, no retry storm', async () => {
    await startSim();
    const source = createSource({ password: 'not-the-password' });
    await source.start();
    expect(source.state()).toMatchObject({ status: 'auth_failed', error: expect.stringMatching(/NotAuthorizedException: Incorrect username or password/) });
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.control.stats().failedLogins).toBe(1);
    const errors = logLines.filter((l) => l.includes('authentication failed'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).not.toContain('not-the-password');
  });

  it('reports reconnecting (attempt, next try) and connected, one log line per change', async () => {
    await startSim();
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    // Delays are short (≤ 300 ms, full jitter), so look for "attempt 2 or later" rather than exactly 2.
    await vi.waitFor(() => expect(source.state()).toMatchObject({ status: 'reconnecting', attempt: expect.toSatisfy((n: number) => n >= 2) }), { interval: 5 });
    expect(source.state()).toMatchObject({ nextRetryInMs: expect.any(Number), lastError: expect.stringMatching(/HTTP 503/) });
    sim.control.refuseRealtime(false);
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    const stateLines = logLines
      .map((l) => JSON.parse(l) as { msg: string })
      .map((l) => l.msg)
      .filter((m) => /moments source moments: (connected|reconnecting)/.test(m));
    expect(stateLines[0]).toBe('moments source moments: connected');
    expect(stateLines[1]).toMatch(/reconnecting \(attempt 1, next try in \d+ ms\)/);
    expect(stateLines.at(-1)).toBe('moments source moments: connected');
  });

  it('uses the official SDK named in `sdk:`; the periodic back-fill closes the gap of a drop the SDK hides', async () => {
    await startSim();
    const configDir = join(process.cwd(), 'test/fixtures/moments-sdk');
    const before = sim.control.createMoment({ createdAt: new Date(Date.now() - 1000).toISOString() }, { live: false });
    const source = createSource({ sdk: '@dataworks-technology/moments', backfillEvery: '300ms' }, configDir);
    await source.start();
    await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(3), { timeout: 5000 });
    const live = sim.control.createMoment();
    const expected = [before, live].map((m) => `moments:moment:${m.publicId}`);
    await vi.waitFor(() => expect(new Set(momentIds())).toEqual(new Set(expected)), { timeout: 5000 });
    // A drop: the stand-in SDK reconnects by itself, reports nothing and back-fills nothing.
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    for (let i = 0; i < 5; i++) expected.push(`moments:moment:${sim.control.createMoment({ athleteId: 900 + i }).publicId}`);
    await new Promise((r) => setTimeout(r, 400));
    sim.control.refuseRealtime(false);
    await vi.waitFor(() => expect(sim.control.stats().activeSubscriptions).toBe(3), { timeout: 10_000 });
    for (let i = 0; i < 5; i++) expected.push(`moments:moment:${sim.control.createMoment({ athleteId: 950 + i }).publicId}`);
    await vi.waitFor(() => expect(new Set(momentIds())).toEqual(new Set(expected)), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 700)); // two more periodic runs: nothing twice
    expect(momentIds()).toHaveLength(12);
    expect(sim.control.stats().realtimeConnections).toBeGreaterThanOrEqual(2);
    expect(logLines.some((l) => l.includes('the SDK reports no connection state; back-filling every 300 ms'))).toBe(true);
  });

  it('an SDK refusing the password also ends in auth_failed without retries', async () => {
    await startSim();
    const configDir = join(process.cwd(), 'test/fixtures/moments-sdk');
    const source = createSource({ sdk: '@dataworks-technology/moments', password: 'wrong-password' }, configDir);
    await source.start();
    expect(source.state()).toMatchObject({ status: 'auth_failed', error: expect.stringMatching(/NotAuthorizedException/) });
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.control.stats().failedLogins).toBe(1);
  });

  it('names a missing SDK package clearly', async () => {
    await startSim();
    const source = createSource({ sdk: '@dataworks-technology/moments' }, '/tmp');
    await expect(source.start()).rejects.toMatchObject({
      code: 'moments_sdk_invalid',
      message: expect.stringMatching(/not installed where \/tmp can see it: run `npm install @dataworks-technology\/moments` there/),
    });
  });

  it('after a reconnect, emits triggers created or changed while the socket was down', async () => {
    await startSim();
    const existing = sim.control.createTrigger({ name: 'HR > 170' });
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    expect(events).toEqual([]); // triggers known at start fill the cache; they are not news
    sim.control.refuseRealtime(true);
    sim.control.dropSockets();
    const missed = sim.control.createTrigger({ name: 'Missed while down' }, { live: false });
    const changed = sim.control.updateTrigger(existing.publicId, { name: 'HR > 175', updatedAt: new Date(Date.now() + 5).toISOString() }, { live: false });
    sim.control.refuseRealtime(false);
    await vi.waitFor(
      () =>
        expect(events.map((e) => e.id).sort()).toEqual(
          [`moments:trigger.created:${missed.publicId}`, `moments:trigger.updated:${existing.publicId}@${changed.updatedAt}`].sort(),
        ),
      { timeout: 5000 },
    );
  });

  for (const schema of ['vendor', 'amplify'] as const) {
    it(`after a restart, emits the trigger changes made while the bridge was down, from the watermark in Redis (${schema})`, async () => {
      await startSim({ schema });
      const existing = sim.control.createTrigger({ name: 'HR > 170' });
      let source = createSource();
      await source.start();
      await vi.waitFor(() => expect(source.state().status).toBe('connected'));
      await vi.waitFor(async () => expect(await redis.client().hget('mb:source:moments:cursor', 'triggersUpdatedAt')).toBe(existing.updatedAt));
      await source.stop();
      const missed = sim.control.createTrigger({ name: 'Made while the bridge was down' });
      const changed = sim.control.updateTrigger(existing.publicId, { name: 'HR > 175', updatedAt: new Date(Date.now() + 5).toISOString() });
      source = createSource();
      await source.start();
      const want = [`moments:trigger.created:${missed.publicId}`, `moments:trigger.updated:${existing.publicId}@${changed.updatedAt}`];
      await vi.waitFor(() => expect(events.map((e) => e.id)).toEqual(expect.arrayContaining(want)), { timeout: 5000 });
      // A trigger created exactly at the watermark may be offered again after a restart (the
      // watermark is inclusive, so one made in the same millisecond is never missed): the queue's
      // dedup by event id drops it. Nothing else may come.
      const extra = events.map((e) => e.id).filter((id) => !want.includes(id));
      expect(extra.every((id) => id === `moments:trigger.created:${existing.publicId}`)).toBe(true);
      await vi.waitFor(async () => expect(await redis.client().hget('mb:source:moments:cursor', 'triggersUpdatedAt')).toBe(changed.updatedAt));
    });
  }

  it('holds trigger changes the pipeline refuses and retries them with backoff; moments behind them are not blocked', async () => {
    await startSim();
    const source = createSource();
    await source.start();
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    failEmits = true;
    const t = sim.control.createTrigger({ name: 'refused at first' });
    await vi.waitFor(() => expect(source.progress!()).toMatchObject({ pending: 1 }));
    expect(source.state()).toMatchObject({ status: 'reconnecting', lastError: expect.stringMatching(/trigger changes held for retry: redis unavailable/) });
    failEmits = false;
    const m = sim.control.createMoment();
    await vi.waitFor(() => expect(events.map((e) => e.id).sort()).toEqual([`moments:moment:${m.publicId}`, `moments:trigger.created:${t.publicId}`].sort()), {
      timeout: 5000,
    });
    await vi.waitFor(() => expect(source.state().status).toBe('connected'));
    expect(source.progress!()).toMatchObject({ pending: 0, lagMs: 0 });
  });

  it('retries a login that failed for a retryable reason (Cognito 500)', async () => {
    await startSim();
    sim.control.failNext(2, 'cognito', 500);
    const source = createSource();
    await source.start();
    expect(source.state()).toMatchObject({ status: 'reconnecting', lastError: expect.stringMatching(/InternalErrorException/) });
    await vi.waitFor(() => expect(source.state().status).toBe('connected'), { timeout: 5000 });
    const m = sim.control.createMoment();
    await vi.waitFor(() => expect(momentIds()).toEqual([`moments:moment:${m.publicId}`]));
  });
});

describe('moments source config', () => {
  const base = {
    type: 'moments',
    cognitoEndpoint: 'https://cognito-idp.eu-west-1.amazonaws.com/',
    clientId: 'abc',
    username: 'u',
    password: 'p4ssw0rd',
    graphqlUrl: 'https://x.appsync-api.eu-west-1.amazonaws.com/graphql',
  };

  it('fills defaults and converts durations', () => {
    const config = momentsSource.configSchema.parse(base);
    expect(config).toMatchObject({
      realtimeAuth: 'subprotocol',
      backfill: 900_000,
      backfillEvery: 60_000,
      dedupTtl: 86_400_000,
      pageSize: 100,
      reconnect: { initialDelay: 500, maxDelay: 30_000 },
    });
    // No documents by default: they are built from the engine's schema.
    expect(config.documents).toBeUndefined();
  });

  it('takes documents per operation; the deprecated subscriptions keys fill what documents leaves unset', () => {
    const config = momentsSource.configSchema.parse({
      ...base,
      documents: {
        onCreateMoment: 'subscription A { onCreateMoment { publicId createdAt } }',
        listMoments: 'query L($since: String) { listMoments(filter: { createdAt: { gte: $since } }) { items { publicId createdAt } } }',
      },
      subscriptions: {
        moments: 'subscription Old { onCreateMoment { publicId } }',
        triggerUpdated: 'subscription U { onUpdateTrigger { publicId updatedAt } }',
      },
    });
    expect(configuredDocuments(config)).toEqual({
      onCreateMoment: 'subscription A { onCreateMoment { publicId createdAt } }',
      listMoments: expect.stringContaining('$since'),
      onUpdateTrigger: 'subscription U { onUpdateTrigger { publicId updatedAt } }',
    });
  });

  it.each([
    [{ backfill: 'soon' }, 'backfill', /not a duration/],
    [{ realtimeAuth: 'cookie' }, 'realtimeAuth', /subprotocol|query/],
    [{ graphqlUrl: 'ftp://x' }, 'graphqlUrl', /http\(s\) URL/],
    [{ realtimeUrl: 'https://x' }, 'realtimeUrl', /ws\(s\) URL/],
    [{ pasword: 'typo' }, '', /pasword/],
    [{ documents: { listMoments: 'query { listMoments { ' } }, 'documents.listMoments', /not a GraphQL document/],
    [{ documents: { onCreateMoment: 'query Q { listMoments { items { publicId } } }' } }, 'documents.onCreateMoment', /must be a subscription, found a query/],
    [{ documents: { listMoment: 'query Q { x }' } }, 'documents', /listMoment/],
  ])('rejects %j with a message at %s', (override, path, message) => {
    const result = momentsSource.configSchema.safeParse({ ...base, ...override });
    expect(result.success).toBe(false);
    const issue = result.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(path);
    expect(JSON.stringify(result.error!.issues)).toMatch(message);
  });
});
