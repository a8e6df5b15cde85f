import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startObserverSimulator, type RunningObserverSimulator } from '../../../simulators/observer/index.js';
import { SeenWindow } from '../../../src/sources/shared/seen-window.js';
import type { FrameSpec } from '../../../src/sources/observer/frame-spec.js';
import { ObserverSource } from '../../../src/sources/observer/observer-source.js';
import { identifyRow } from '../../../src/sources/observer/row-identity.js';
import { observerSourceConfigSchema } from '../../../src/sources/observer/source-config.js';
import { startTestRedis, type TestRedis } from '../../helpers/redis.js';
import { harness, metricValue, waitFor, type Harness } from './source-harness.js';

const SDK_DIR = fileURLToPath(new URL('../../fixtures/observer-sdk/', import.meta.url));
type Row = Record<string, unknown>;
// The stand-in SDK reshapes rows (drops some ids, ISO timestamps on others); its own transform
// tells the tests which event id each simulator row must end up with.
const { toSdkRow } = (await import(pathToFileURL(join(SDK_DIR, 'node_modules/@huddle01/observer-client-sdk/index.js')).href)) as {
  toSdkRow: (row: Row) => Row;
};

let redis: TestRedis;
let sim: RunningObserverSimulator;
let source: ObserverSource | undefined;
let seq = 0;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await source?.stop();
  source = undefined;
  await sim?.stop();
});

// The same behaviour with the built-in client and with the stand-in official SDK loaded via `sdk:`.
const variants = [
  { label: 'built-in client', sdk: undefined as string | undefined, configDir: process.cwd(), view: (row: Row) => row },
  { label: 'stand-in SDK via sdk:', sdk: '@huddle01/observer-client-sdk', configDir: SDK_DIR, view: toSdkRow },
];

describe.each(variants)('observer source with $label', ({ sdk, configDir, view }) => {
  /** The upstream id the source must give a simulator row, as this client delivers it. */
  function upstreamId(spec: Omit<FrameSpec, 'discovered'>, row: Row): string {
    const identity = identifyRow({ ...spec, discovered: false }, view(row));
    if (!identity.ok) throw new Error(identity.reason);
    return identity.upstreamId;
  }

  async function setup(frames: unknown[], extra: Record<string, unknown> = {}, before?: () => void): Promise<{ h: Harness; name: string }> {
    await redis.flush();
    sim = await startObserverSimulator({ accessToken: 'tok-observer-test' });
    before?.();
    const name = `calls${++seq}${sdk ? 'sdk' : ''}`;
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: sim.url,
      accessToken: 'tok-observer-test',
      frames,
      requestTimeout: '2s',
      reconnect: { initialDelay: '20ms', maxDelay: '100ms' },
      ...(sdk ? { sdk } : {}),
      ...extra,
    });
    const h = harness(name, redis.client(), configDir);
    source = new ObserverSource(config, h.ctx);
    await source.start();
    await waitFor(() => source!.state().status === 'connected', 'connected');
    // Proves which client is talking: the stand-in SDK numbers its requests "sdk-<n>".
    expect(sim.control.state().lastRequestId?.startsWith('sdk-')).toBe(Boolean(sdk));
    return { h, name };
  }

  const rowEvents = (h: Harness) => h.events.filter((e) => e.kind === 'observer.row');

  it('opens frames for discovered calls, closes them when calls end, and turns rows into events', async () => {
    const callsFrame = { ongoingCalls: { pollEvery: '50ms', frames: ['callSnapshots', 'clientSnapshots'] } };
    const { h, name } = await setup([callsFrame]);
    sim.control.startCall({ callId: 'A', clients: ['a1', 'a2'] });
    sim.control.startCall({ callId: 'B', clients: ['b1'] });

    await waitFor(() => source!.openFrames().length === 5, 'frames for A, a1, a2, B, b1');
    expect(source!.openFrames().sort()).toEqual(['callSnapshots:A', 'callSnapshots:B', 'clientSnapshots:A:a1', 'clientSnapshots:A:a2', 'clientSnapshots:B:b1']);
    expect(sim.control.state().frames).toHaveLength(5);
    expect(
      h.events
        .filter((e) => e.kind === 'observer.call.started')
        .map((e) => e.id)
        .sort(),
    ).toEqual([`${name}:observer.call.started:A`, `${name}:observer.call.started:B`]);
    expect(await metricValue('mb_observer_frames_open', { source: name })).toBe(5);

    const rows = sim.control.snapshot('A');
    await waitFor(() => rowEvents(h).length === 3, 'three row events');
    const callRow = rows.find((r) => r.clientId === undefined)!;
    const event = h.events.find((e) => e.id === `${name}:observer.row:${upstreamId({ kind: 'callSnapshots', callId: 'A' }, callRow)}`);
    expect(event).toMatchObject({ source: name, kind: 'observer.row', data: { frame: 'callSnapshots', callId: 'A', clientsCount: 2 } });
    expect(event!.time).toBe(new Date(callRow.timestamp as number).toISOString());
    const clientEvent = rowEvents(h).find((e) => (e.data as Record<string, unknown>).clientId === 'a1')!;
    expect(clientEvent.data).toMatchObject({
      frame: 'clientSnapshots',
      callId: 'A',
      clientId: 'a1',
      rttMs: expect.any(Number),
      jitterMs: expect.any(Number),
      packetLoss: expect.any(Number),
    });

    sim.control.endCall('B');
    await waitFor(() => h.events.some((e) => e.kind === 'observer.call.ended'), 'call ended event');
    await waitFor(() => source!.openFrames().length === 3, 'frames of B closed');
    expect(source!.openFrames().some((k) => k.includes(':B'))).toBe(false);
    expect(
      sim.control
        .state()
        .frames.map((f) => f.stream)
        .sort(),
    ).toEqual(['callSnapshots:A', 'clientSnapshots:A:a1', 'clientSnapshots:A:a2']);
    const ended = h.events.filter((e) => e.kind === 'observer.call.ended');
    expect(ended.map((e) => e.id)).toEqual([`${name}:observer.call.ended:B`]);
    expect(ended[0]!.data).toMatchObject({ callId: 'B', roomId: 'room-B' });
    expect(await redis.client().hkeys(`mbtest:source:${name}:calls`)).toEqual(['A']);
  });

  it('after a drop it reconnects, re-opens frames and delivers the rows published during the outage exactly once', async () => {
    const { h, name } = await setup([{ callSnapshots: { callId: 'C' } }], {}, () => sim.control.startCall({ callId: 'C', clients: 1 }));
    await waitFor(() => source!.openFrames().includes('callSnapshots:C'), 'frame C open');
    const before = sim.control.pushRow({ kind: 'callSnapshots', callId: 'C' });
    await waitFor(() => rowEvents(h).length === 1, 'first row');
    const reconnectsBefore = await metricValue('mb_observer_reconnects_total', { source: name });

    sim.control.refuseConnections(true);
    sim.control.dropSockets();
    await waitFor(() => source!.state().status === 'reconnecting', 'reconnecting state');
    const during = [sim.control.pushRow({ kind: 'callSnapshots', callId: 'C' }), sim.control.pushRow({ kind: 'callSnapshots', callId: 'C' })];
    await waitFor(async () => (await metricValue('mb_observer_connect_failures_total', { source: name })) >= 3, 'refused reconnect attempts');
    expect(source!.state()).toMatchObject({ status: 'reconnecting', lastError: expect.stringContaining('503') });
    sim.control.refuseConnections(false);

    await waitFor(() => source!.state().status === 'connected', 'reconnected');
    await waitFor(() => rowEvents(h).length === 3, 'rows from the outage');
    expect(sim.control.state().frames.map((f) => f.stream)).toEqual(['callSnapshots:C']);
    const after = sim.control.pushRow({ kind: 'callSnapshots', callId: 'C' });
    await waitFor(() => rowEvents(h).length === 4, 'live row after reconnect');

    const ids = rowEvents(h).map((e) => e.id);
    expect(ids).toEqual([before, ...during, after].map((r) => `${name}:observer.row:${upstreamId({ kind: 'callSnapshots', callId: 'C' }, r)}`));
    expect(await metricValue('mb_observer_reconnects_total', { source: name })).toBeGreaterThan(reconnectsBefore);
    // The first row came back in the post-reconnect update() and was dropped by its Redis mark.
    expect(await metricValue('mb_observer_duplicate_rows_total', { source: name })).toBeGreaterThanOrEqual(1);
    const seen = new SeenWindow(redis.client(), `mbtest:source:${name}:`, 86_400_000);
    expect(await seen.seenMany([upstreamId({ kind: 'callSnapshots', callId: 'C' }, before)])).toEqual([true]);
  });

  it('a request timeout gives a clear error and the source keeps running', async () => {
    const { h, name } = await setup([{ ongoingCalls: { pollEvery: '100ms' } }], { requestTimeout: '300ms' });
    sim.control.delayRequests({ method: 'fetchOngoingCalls', ms: 1_000, count: 2 });
    sim.control.startCall({ callId: 'D', clients: 1 });

    await waitFor(async () => (await metricValue('mb_observer_request_errors_total', { source: name, method: 'fetchOngoingCalls' })) >= 1, 'a timed-out poll');
    const line = h.logs.find((l) => l.method === 'fetchOngoingCalls' && l.level === 40);
    // The SDK documents no timeout: the adapter bounds its calls by requestTimeout, same message.
    expect(line).toMatchObject({ code: 'observer_timeout' });
    expect(String(line!.msg)).toMatch(/fetchOngoingCalls .*no answer within 300 ms.*raise requestTimeout/);
    // Later polls answer in time: discovery goes on over the same connection.
    await waitFor(() => source!.openFrames().includes('callSnapshots:D'), 'frame for D after the timeouts');
    expect(source!.state().status).toBe('connected');
    expect(await metricValue('mb_observer_reconnects_total', { source: name })).toBe(0);
    sim.control.snapshot('D');
    await waitFor(() => rowEvents(h).length === 1, 'row of D');
  });

  it('malformed messages from the server are skipped and counted; invalid rows are quarantined; the source keeps going', async () => {
    const { h, name } = await setup([{ ongoingCalls: { pollEvery: '50ms' } }]);
    sim.control.startCall({ callId: 'E', clients: 1 });
    await waitFor(() => source!.openFrames().includes('callSnapshots:E'), 'frame E');

    for (const kind of ['invalid-json', 'unknown-type', 'binary', 'unknown-frame', 'invalid-row'] as const) expect(sim.control.sendMalformed(kind)).toBe(1);
    await waitFor(() => h.quarantined.length === 1, 'quarantined row');
    expect(h.quarantined[0]).toMatchObject({
      kind: 'observer.row',
      reason: 'row of frame callSnapshots:E cannot be routed: it names callId "42", not the frame\'s "E"',
    });
    expect(await metricValue('mb_observer_invalid_rows_total', { source: name })).toBe(1);
    if (!sdk) {
      // The stand-in SDK drops undecodable messages silently; the built-in client reports them.
      await waitFor(async () => (await metricValue('mb_observer_malformed_frames_total', { source: name })) === 3, 'three malformed messages counted');
      const warnings = h.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('malformed message'));
      expect(warnings.map((w) => w.reason)).toEqual([
        expect.stringMatching(/^not JSON/),
        expect.stringMatching(/^unexpected message shape/),
        expect.stringMatching(/^not JSON/),
      ]);
    }

    const row = sim.control.pushRow({ kind: 'callSnapshots', callId: 'E' });
    await waitFor(
      () => rowEvents(h).some((e) => e.id === `${name}:observer.row:${upstreamId({ kind: 'callSnapshots', callId: 'E' }, row)}`),
      'row after malformed frames',
    );
    expect(sim.control.state().connections).toBe(1);
    expect(await metricValue('mb_observer_reconnects_total', { source: name })).toBe(0);
    expect(source!.state().status).toBe('connected');
  });

  it('database frames and summary stats become events', async () => {
    const { h, name } = await setup([
      { database: { resource: 'issues', conditions: { severity: 'high' } } },
      { summaryStats: { every: '100ms', params: { window: '5m' } } },
    ]);
    await waitFor(() => source!.openFrames().includes('database:issues'), 'database frame');
    const high = sim.control.pushRow({ kind: 'database', resource: 'issues', row: { id: 'i1', severity: 'high', callId: 'Z' } });
    sim.control.pushRow({ kind: 'database', resource: 'issues', row: { id: 'i2', severity: 'low' } });
    await waitFor(() => rowEvents(h).length === 1, 'database row');
    expect(rowEvents(h)[0]).toMatchObject({
      id: `${name}:observer.row:${upstreamId({ kind: 'database', resource: 'issues' }, high)}`,
      data: { frame: 'database', resource: 'issues', severity: 'high', callId: 'Z' },
    });
    const summary = await waitFor(() => h.events.find((e) => e.kind === 'observer.summary'), 'summary event');
    expect(summary!.data).toMatchObject({ ongoingCalls: 0, params: { window: '5m' } });
    expect(summary!.id).toMatch(new RegExp(`^${name}:observer\\.summary:summaryStats:1:\\d+$`));
  });

  it('admin: workers, servers and jobs of the simulator become state-change events; down and back up are one event each', async () => {
    const { h, name } = await setup([{ ongoingCalls: { pollEvery: '1s' } }], { admin: { pollEvery: '50ms' } });
    const states = () => h.events.filter((e) => e.kind.endsWith('.state')).map((e) => e.id);
    await waitFor(() => states().length === 3, 'first sight of two workers and a server');
    expect(states()).toEqual([
      `${name}:observer.worker.state:worker-1:1:up`,
      `${name}:observer.worker.state:worker-2:1:up`,
      `${name}:observer.server.state:server-1:1:running`,
    ]);

    sim.control.admin.setWorkerState('worker-1', 'down');
    const job = sim.control.admin.startJob('recording', { callId: 'X' });
    await waitFor(() => states().length === 5, 'worker down and a new job');
    sim.control.admin.failJob(job.jobId, 'disk full');
    sim.control.admin.setWorkerState('worker-1', 'up');
    sim.control.admin.removeWorker('worker-2');
    sim.control.admin.setServerState('server-1', 'draining');
    await waitFor(() => states().length === 9, 'job failed, worker back, worker gone, server draining');
    expect(states().slice(3).sort()).toEqual(
      [
        `${name}:observer.worker.state:worker-1:2:down`,
        `${name}:observer.job.state:${job.jobId}:1:active`,
        `${name}:observer.job.state:${job.jobId}:2:failed`,
        `${name}:observer.worker.state:worker-1:3:up`,
        `${name}:observer.worker.state:worker-2:2:missing`,
        `${name}:observer.server.state:server-1:2:draining`,
      ].sort(),
    );
    const down = h.events.find((e) => e.id.endsWith('worker-1:2:down'))!;
    expect(down.data).toMatchObject({ workerId: 'worker-1', previousState: 'up', state: 'down', down: true, item: { host: expect.any(String) } });
    expect(h.events.find((e) => e.id.endsWith(':2:failed'))!.data).toMatchObject({
      state: 'failed',
      failed: true,
      item: { type: 'recording', error: 'disk full' },
    });
    // The server map gives ISO `since`, workers give epoch ms: both become the event time.
    expect(Date.parse(down.time)).toBeGreaterThan(Date.now() - 60_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(states()).toHaveLength(9); // steady state: nothing more
    expect(sim.control.state().requests).toMatchObject({
      getWorkerState: expect.any(Number),
      getServerState: expect.any(Number),
      listJobs: expect.any(Number),
    });
  });

  it('a rejected access token is reported as auth_failed', async () => {
    sim = await startObserverSimulator({ accessToken: 'tok-observer-test' });
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: sim.url,
      accessToken: 'tok-wrong-token',
      reconnect: { initialDelay: '20ms', maxDelay: '5s' },
      ...(sdk ? { sdk } : {}),
    });
    const h = harness(`auth${++seq}`, redis.client(), configDir);
    source = new ObserverSource(config, h.ctx);
    await source.start();
    if (!sdk) {
      expect(source.state()).toMatchObject({ status: 'auth_failed', error: expect.stringContaining('access token') });
      expect(h.logs.some((l) => l.level === 50 && l.code === 'observer_unauthorized')).toBe(true);
    } else {
      // An SDK's own error types are unknown to the bridge: it keeps retrying with backoff.
      expect(['reconnecting', 'auth_failed']).toContain(source.state().status);
    }
    expect(JSON.stringify(h.logs)).not.toContain('tok-wrong-token');
  });
});

describe('observer source sdk loading', () => {
  it('the SDK is constructed as documented: { connection: { url, getAccessToken } } (the flat form is refused by it)', async () => {
    const { ObserverClient } = (await import(pathToFileURL(join(SDK_DIR, 'node_modules/@huddle01/observer-client-sdk/index.js')).href)) as {
      ObserverClient: new (c: unknown) => unknown;
    };
    expect(() => new ObserverClient({ url: 'ws://127.0.0.1:9', getAccessToken: () => 't' })).toThrow('ObserverClient: config.connection.url is required');
  });

  it('"admin" with an SDK that has no ObserverAdminClient fails start() with a clear config error', async () => {
    const config = observerSourceConfigSchema.parse({
      type: 'observer',
      url: 'ws://127.0.0.1:9',
      accessToken: 'x-token',
      sdk: 'observer-sdk-without-admin',
      admin: {},
    });
    const s = new ObserverSource(config, harness('noadmin', redis.client(), SDK_DIR).ctx);
    await expect(s.start()).rejects.toMatchObject({
      code: 'observer_sdk_no_admin',
      message: expect.stringContaining('does not export ObserverAdminClient, which "admin" needs'),
    });
    // Without admin the same package is fine.
    const plain = new ObserverSource({ ...config, admin: undefined }, harness('noadmin2', redis.client(), SDK_DIR).ctx);
    await plain.start();
    expect(['reconnecting', 'connected']).toContain(plain.state().status);
    await plain.stop();
  });

  it('a missing sdk package fails start() with a clear message', async () => {
    const config = observerSourceConfigSchema.parse({ type: 'observer', url: 'ws://127.0.0.1:9', accessToken: 'x-token', sdk: '@huddle01/not-installed-sdk' });
    const h = harness('nosdk', redis.client(), process.cwd());
    const s = new ObserverSource(config, h.ctx);
    await expect(s.start()).rejects.toMatchObject({
      code: 'observer_sdk_missing',
      message: expect.stringContaining('npm install @huddle01/not-installed-sdk'),
    });
  });
});
