import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../../src/core/event.js';
import { AdminPoller } from '../../../src/sources/observer/admin-poller.js';
import { GONE_STATE, isProblemState, normaliseAdminStates } from '../../../src/sources/observer/admin-states.js';
import type { ObserverAdminLike } from '../../../src/sources/observer/observer-api.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, metricValue } from './source-harness.js';

describe('admin problem states', () => {
  it.each(['down', 'offline', 'stopped', 'error', 'failed', 'dead', 'unhealthy', 'unreachable', 'disconnected', 'crashed', 'missing', 'DOWN'])(
    'a worker or server "%s" is a problem',
    (state) => {
      expect([isProblemState('worker', state), isProblemState('server', state)]).toEqual([true, true]);
    },
  );
  it.each(['failed', 'error', 'errored', 'Failed'])('a job "%s" is a problem', (state) => {
    expect(isProblemState('job', state)).toBe(true);
  });
  it.each<[Parameters<typeof isProblemState>[0], string]>([
    ['worker', 'up'],
    ['server', 'running'],
    ['worker', ''],
    ['job', 'down'],
    ['job', 'active'],
  ])('a %s "%s" is not', (kind, state) => {
    expect(isProblemState(kind, state)).toBe(false);
  });
  it('an item gone from the list gets the state that says so', () => {
    expect(GONE_STATE).toEqual({ worker: 'missing', server: 'missing', job: 'removed' });
  });
});

describe('admin payload shapes', () => {
  it.each<[Parameters<typeof normaliseAdminStates>[0], Record<string, unknown>]>([
    ['server', { servers: [{ id: 's1', state: 'up' }] }],
    ['server', { items: [{ id: 's1', state: 'up' }] }],
    ['server', { data: [{ id: 's1', state: 'up' }] }],
    ['worker', { data: { s1: 'up' } }],
    ['job', { jobs: [{ id: 's1', state: 'up' }] }],
    ['job', { items: [{ id: 's1', state: 'up' }] }],
    ['job', { data: [{ id: 's1', state: 'up' }] }],
  ])('a %s payload wrapped as %j', (kind, raw) => {
    expect(normaliseAdminStates(kind, raw)).toEqual({ items: [{ id: 's1', state: 'up', item: expect.anything() }], skipped: [] });
  });

  it.each<[unknown, string]>([
    ['   ', 'worker "w1" has no state (expected a string or an object with "state" or "status")'],
    [{ state: '  ' }, 'worker "w1" has no state (expected a string or an object with "state" or "status")'],
    [[], 'worker "w1" has no state (expected a string or an object with "state" or "status")'],
  ])('a blank or shapeless state %j is skipped with the reason', (value, reason) => {
    expect(normaliseAdminStates('worker', { w1: value })).toEqual({ items: [], skipped: [{ reason, raw: value }] });
  });

  it('a state string in a map keeps an item holding that state; null entries and payloads are named', () => {
    expect(normaliseAdminStates('worker', { w1: 'up' }).items).toEqual([{ id: 'w1', state: 'up', item: { state: 'up' } }]);
    expect(normaliseAdminStates('worker', [null]).skipped).toEqual([{ reason: 'a worker entry is null, not an object', raw: null }]);
    expect(() => normaliseAdminStates('job', null)).toThrow('the job state payload is null; expected an array or an object');
  });

  const workers = [
    { id: 'w1', state: 'up' },
    { id: 'w2', state: 'down' },
  ];
  it.each([
    [
      'an array with workerId/state',
      [
        { workerId: 'w1', state: 'up' },
        { workerId: 'w2', state: 'down' },
      ],
    ],
    [
      'an array with id/status',
      [
        { id: 'w1', status: 'up' },
        { id: 'w2', status: 'down' },
      ],
    ],
    [
      'an array with name',
      [
        { name: 'w1', state: 'up' },
        { name: 'w2', state: 'down' },
      ],
    ],
    [
      '{ workers: [...] }',
      {
        workers: [
          { workerId: 'w1', state: 'up' },
          { workerId: 'w2', state: 'down' },
        ],
      },
    ],
    ['a map of state strings', { w1: 'up', w2: 'down' }],
    ['a map of objects', { w1: { state: 'up' }, w2: { status: 'down', load: 3 } }],
    ['{ workers: map }', { workers: { w1: 'up', w2: { state: 'down' } } }],
    [
      '{ items: [...] }',
      {
        items: [
          { id: 'w1', state: 'up' },
          { id: 'w2', state: 'down' },
        ],
      },
    ],
  ])('%s', (_label, raw) => {
    const result = normaliseAdminStates('worker', raw);
    expect(result.skipped).toEqual([]);
    expect(result.items.map(({ id, state }) => ({ id, state }))).toEqual(workers);
  });

  it('keeps the raw item, skips entries without id or state with the reason, and refuses a non-object payload', () => {
    const result = normaliseAdminStates('job', { jobs: [{ jobId: 'j1', state: 'active', type: 'rec' }, { state: 'active' }, { jobId: 'j3' }, 7] });
    expect(result.items).toEqual([{ id: 'j1', state: 'active', item: { jobId: 'j1', state: 'active', type: 'rec' } }]);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'a job entry has none of "jobId", "id", "name"',
      'job "j3" has no "state" or "status" text',
      'a job entry is number, not an object',
    ]);
    expect(() => normaliseAdminStates('server', 'ok')).toThrow(/server state payload is string/);
  });
});

describe('admin state diffing (real Redis)', () => {
  let redis: TestRedis;
  let n = 0;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });
  beforeEach(async () => {
    await redis.flush();
  });

  /** An admin client whose answers the test sets; only the three polled calls matter here. */
  function fakeAdmin(): { client: ObserverAdminLike; workers: unknown; servers: unknown; jobs: unknown; fail: Set<string> } {
    const state = { workers: [] as unknown, servers: {} as unknown, jobs: [] as unknown, fail: new Set<string>() };
    const answer = (method: string, value: () => unknown) => (state.fail.has(method) ? Promise.reject(new Error(`${method} down`)) : Promise.resolve(value()));
    const client = {
      getWorkerState: () => answer('getWorkerState', () => state.workers),
      getServerState: () => answer('getServerState', () => state.servers),
      listJobs: () => answer('listJobs', () => state.jobs),
    } as unknown as ObserverAdminLike;
    return Object.assign(state, { client });
  }

  function poller(name: string, events: BridgeEvent[], emitOk: () => boolean = () => true): { poller: AdminPoller; failures: string[] } {
    const h = harness(name, redis.client());
    const failures: string[] = [];
    const p = new AdminPoller({
      ctx: h.ctx,
      pollEvery: 60_000,
      emit: async (e) => {
        if (!emitOk()) return false;
        events.push(e);
        return true;
      },
      requestFailed: (method) => failures.push(method),
    });
    return { poller: p, failures };
  }

  const brief = (events: BridgeEvent[]) =>
    events.map((e) => [e.kind, (e.data as { id: string }).id, (e.data as { previousState: string | null }).previousState, (e.data as { state: string }).state]);

  it('emits first sight, down, up, disappearance and a failed job — each change once, with stable ids', async () => {
    const name = `adm${++n}`;
    const up = fakeAdmin();
    const events: BridgeEvent[] = [];
    const { poller: p } = poller(name, events);
    up.workers = {
      workers: [
        { workerId: 'w1', state: 'up' },
        { workerId: 'w2', state: 'up' },
      ],
    };
    up.servers = { s1: 'running' };
    up.jobs = [{ jobId: 'j1', state: 'active' }];
    await p.pollOnce(up.client);
    expect(brief(events)).toEqual([
      ['observer.worker.state', 'w1', null, 'up'],
      ['observer.worker.state', 'w2', null, 'up'],
      ['observer.server.state', 's1', null, 'running'],
      ['observer.job.state', 'j1', null, 'active'],
    ]);
    events.length = 0;
    await p.pollOnce(up.client);
    expect(events).toEqual([]); // nothing changed

    up.workers = {
      workers: [
        { workerId: 'w1', state: 'down' },
        { workerId: 'w2', state: 'up' },
      ],
    };
    up.jobs = [{ jobId: 'j1', state: 'failed', error: 'disk full' }];
    await p.pollOnce(up.client);
    expect(events.map((e) => e.id)).toEqual([`${name}:observer.worker.state:w1:2:down`, `${name}:observer.job.state:j1:2:failed`]);
    expect(events[0]!.data).toMatchObject({ workerId: 'w1', previousState: 'up', state: 'down', down: true, wasDown: false, change: 2 });
    expect(events[1]!.data).toMatchObject({
      jobId: 'j1',
      previousState: 'active',
      state: 'failed',
      failed: true,
      wasFailed: false,
      item: { error: 'disk full' },
    });

    events.length = 0;
    up.workers = { workers: [{ workerId: 'w1', state: 'up' }] }; // w1 back, w2 gone without a word
    up.jobs = [];
    await p.pollOnce(up.client);
    expect(brief(events)).toEqual([
      ['observer.worker.state', 'w1', 'down', 'up'],
      ['observer.worker.state', 'w2', 'up', 'missing'],
      ['observer.job.state', 'j1', 'failed', 'removed'],
    ]);
    expect(events[0]!.data).toMatchObject({ down: false, wasDown: true, change: 3 });
    expect(events[1]!.data).toMatchObject({ down: true, wasDown: false, item: { workerId: 'w2', state: 'up' } });
    expect(await metricValue('mb_observer_admin_changes_total', { source: name, kind: 'worker' })).toBe(5);
  });

  it('a restart (new poller, same Redis) does not re-emit unchanged states and continues the change count', async () => {
    const name = `adm${++n}`;
    const admin = fakeAdmin();
    admin.workers = [{ workerId: 'w1', state: 'down' }];
    const first: BridgeEvent[] = [];
    await poller(name, first).poller.pollOnce(admin.client);
    expect(first.map((e) => e.id)).toEqual([`${name}:observer.worker.state:w1:1:down`]);

    const second: BridgeEvent[] = [];
    const restarted = poller(name, second).poller;
    await restarted.pollOnce(admin.client);
    expect(second).toEqual([]);
    admin.workers = [{ workerId: 'w1', state: 'up' }];
    await restarted.pollOnce(admin.client);
    expect(second.map((e) => e.id)).toEqual([`${name}:observer.worker.state:w1:2:up`]);
  });

  it('a failed request is not a disappearance, and a change the pipeline refused is emitted again with the same id', async () => {
    const name = `adm${++n}`;
    const admin = fakeAdmin();
    admin.workers = [{ workerId: 'w1', state: 'up' }];
    const events: BridgeEvent[] = [];
    let accept = true;
    const { poller: p, failures } = poller(name, events, () => accept);
    await p.pollOnce(admin.client);
    admin.fail.add('getWorkerState');
    await p.pollOnce(admin.client);
    expect(failures).toContain('getWorkerState');
    expect(events).toHaveLength(1); // no "missing" for w1

    admin.fail.clear();
    admin.workers = [{ workerId: 'w1', state: 'offline' }];
    accept = false;
    await p.pollOnce(admin.client);
    accept = true;
    await p.pollOnce(admin.client);
    expect(events.map((e) => e.id)).toEqual([`${name}:observer.worker.state:w1:1:up`, `${name}:observer.worker.state:w1:2:offline`]);
    expect(events[1]!.data).toMatchObject({ down: true });
  });
});
