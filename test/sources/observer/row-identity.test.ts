import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FrameSpec } from '../../../src/sources/observer/frame-spec.js';
import { normaliseOngoingCalls } from '../../../src/sources/observer/ongoing-calls.js';
import { toIsoTime } from '../../../src/sources/observer/observer-time.js';
import { canonicalJson, identifyRow } from '../../../src/sources/observer/row-identity.js';

const call: FrameSpec = { kind: 'callSnapshots', callId: 'A', discovered: true };
const client: FrameSpec = { kind: 'clientSnapshots', callId: 'A', clientId: 'a1', discovered: true };
const db: FrameSpec = { kind: 'database', resource: 'issues', discovered: false };
const ISO = '2026-01-01T00:00:00.000Z';
const MS = Date.parse(ISO);

describe('timestamps', () => {
  it.each([
    ['epoch ms number', MS, ISO],
    ['epoch ms numeric string', String(MS), ISO],
    ['ISO text', ISO, ISO],
    ['ISO text with offset', '2026-01-01T01:00:00+01:00', ISO],
    ['fractional ms', MS + 0.7, ISO],
    ['unparseable text', 'yesterday', undefined],
    ['negative', -5, undefined],
    ['NaN', Number.NaN, undefined],
    ['beyond Date range', 9e15, undefined],
    ['an object', { at: MS }, undefined],
    ['missing', undefined, undefined],
  ])('%s', (_label, value, expected) => {
    expect(toIsoTime(value)).toBe(expected);
  });
});

describe('fetchOngoingCalls shapes', () => {
  const expected = [expect.objectContaining({ callId: 'c1', clients: [expect.objectContaining({ clientId: 'u1' })] })];
  it.each([
    ['an array with callId', [{ callId: 'c1', clients: [{ clientId: 'u1' }] }]],
    ['{ calls } with id', { calls: [{ id: 'c1', clients: [{ id: 'u1' }] }] }],
    ['{ items }', { items: [{ callId: 'c1', clients: ['u1'] }] }],
    ['{ ongoingCalls }', { ongoingCalls: [{ callId: 'c1', clients: [{ clientId: 'u1' }] }], total: 1 }],
    ['{ data }', { data: [{ callId: 'c1', clients: [{ clientId: 'u1', userId: 'x' }] }] }],
  ])('%s', (_label, raw) => {
    expect(normaliseOngoingCalls(raw)).toEqual({ calls: expected, skipped: [] });
  });

  it('a numeric call id becomes text, unknown fields are kept, a call without clients has none', () => {
    expect(normaliseOngoingCalls([{ id: 42, roomId: 'r', region: 'eu' }]).calls).toEqual([{ id: 42, callId: '42', roomId: 'r', region: 'eu', clients: [] }]);
  });

  it('entries without an id are skipped with the reason; the rest are used', () => {
    const result = normaliseOngoingCalls({ calls: [{ roomId: 'r' }, 'c9', null, { callId: 'c1' }] });
    expect(result.calls.map((c) => c.callId)).toEqual(['c1']);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'an ongoing call has neither "callId" nor "id"',
      'an ongoing call is string, not an object',
      'an ongoing call is null, not an object',
    ]);
  });

  it('a result holding no list is an observer_invalid_response naming what came', () => {
    expect(() => normaliseOngoingCalls({ count: 3 })).toThrow(
      expect.objectContaining({ code: 'observer_invalid_response', message: expect.stringContaining('an object with keys count') }),
    );
    expect(() => normaliseOngoingCalls('nope')).toThrow(/returned string/);
  });
});

describe('row identity', () => {
  it('a row with an id is identified by it; its timestamp becomes the event time (epoch ms or ISO)', () => {
    expect(identifyRow(call, { id: 'r1', timestamp: MS })).toMatchObject({ ok: true, upstreamId: 'callSnapshots:A::r1', time: ISO, timeFromRow: true });
    expect(identifyRow(client, { id: 7, timestamp: ISO })).toMatchObject({ ok: true, upstreamId: 'clientSnapshots:A:a1:7', time: ISO });
    expect(identifyRow(db, { id: 'i1', createdAt: String(MS), callId: 'Z' })).toMatchObject({
      ok: true,
      upstreamId: 'database:issues::i1',
      time: ISO,
      data: { resource: 'issues', callId: 'Z' },
    });
  });

  it('a row without an id gets a deterministic id from its content: same content → same id, any difference → another id', () => {
    const row = { timestamp: MS, rttMs: 40, nested: { b: 1, a: [1, 2] } };
    const a = identifyRow(client, row);
    const b = identifyRow(client, { nested: { a: [1, 2], b: 1 }, rttMs: 40, timestamp: MS }); // same content, other key order
    expect(a).toMatchObject({ ok: true, upstreamId: expect.stringMatching(/^clientSnapshots:A:a1:sha:[0-9a-f]{20}$/) });
    expect(a.ok && b.ok && a.upstreamId === b.upstreamId).toBe(true);
    const others = [
      identifyRow(client, { ...row, rttMs: 41 }),
      identifyRow(client, { ...row, timestamp: MS + 1 }),
      identifyRow({ ...client, clientId: 'a2' }, row),
      identifyRow({ ...client, callId: 'B' }, row),
      identifyRow(call, row),
    ].map((r) => (r.ok ? r.upstreamId : r.reason));
    expect(new Set([a.ok ? a.upstreamId : '', ...others]).size).toBe(6);
  });

  it('no invented value ranges: packetLoss 6 (a count), negative or odd stats, unknown fields pass through', () => {
    const result = identifyRow(client, { id: 'r', timestamp: MS, packetLoss: 6, avgPacketLoss: 3, rttMs: -1, vendorField: { x: 1 } });
    expect(result).toMatchObject({
      ok: true,
      data: { packetLoss: 6, avgPacketLoss: 3, rttMs: -1, vendorField: { x: 1 }, frame: 'clientSnapshots', callId: 'A', clientId: 'a1' },
    });
  });

  it('a row without a usable timestamp is kept, with the receive time', () => {
    const result = identifyRow(call, { id: 'r', timestamp: 'yesterday' }, () => new Date(MS));
    expect(result).toMatchObject({ ok: true, time: ISO, timeFromRow: false, data: { timestamp: 'yesterday' } });
  });

  it.each([
    ['not an object', call, 'text', 'row of frame callSnapshots:A is a string, not an object'],
    ['null', call, null, 'row of frame callSnapshots:A is null, not an object'],
    ['an array', db, [1], 'row of frame database:issues is an array, not an object'],
    ['another call', call, { id: 'r', callId: 'B' }, 'row of frame callSnapshots:A cannot be routed: it names callId "B", not the frame\'s "A"'],
    [
      'another client',
      client,
      { id: 'r', clientId: 'a9' },
      'row of frame clientSnapshots:A:a1 cannot be routed: it names clientId "a9", not the frame\'s "a1"',
    ],
    ['a call id that is no id', call, { id: 'r', callId: { x: 1 } }, 'row of frame callSnapshots:A cannot be routed: its "callId" is an object, not an id'],
  ])('quarantined: %s', (_label, spec, raw, reason) => {
    expect(identifyRow(spec, raw)).toEqual({ ok: false, reason });
  });

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ y: 1, x: 2 }], c: undefined } })).toBe('{"a":{"d":[{"x":2,"y":1}]},"b":1}');
  });
});

describe('row identity: pinned content ids and context fields', () => {
  const sha = (text: string) => `sha:${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;

  it('a row without id is named by sha-256 of callId, clientId, timestamp and sorted content, one per line (a change re-emits every row on upgrade)', () => {
    const row = { timestamp: ISO, b: [2, 3], a: 1 };
    const id = identifyRow(client, row);
    expect(id).toMatchObject({ ok: true, upstreamId: `clientSnapshots:A:a1:${sha(`A\na1\n"${ISO}"\n{"a":1,"b":[2,3],"timestamp":"${ISO}"}`)}` });
  });

  it('missing callId, clientId and timestamp hash as empty text and null', () => {
    const id = identifyRow(db, { x: 1 });
    expect(id).toMatchObject({ ok: true, upstreamId: `database:issues::${sha('\n\nnull\n{"x":1}')}` });
  });

  it('canonical JSON writes array items without undefined or functions as null, like JSON.stringify', () => {
    expect(canonicalJson([1, undefined, () => 1, 'x'])).toBe('[1,null,null,"x"]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('a row may name its own frame call and client, or leave them null', () => {
    expect(identifyRow(client, { id: 'r1', callId: 'A', clientId: 'a1' })).toMatchObject({ ok: true, upstreamId: 'clientSnapshots:A:a1:r1' });
    expect(identifyRow(client, { id: 'r2', callId: null, clientId: null })).toMatchObject({ ok: true, upstreamId: 'clientSnapshots:A:a1:r2' });
  });

  it('only database rows carry a resource field', () => {
    const callRow = identifyRow(call, { id: 'r1' });
    const dbRow = identifyRow(db, { id: 'r1' });
    expect(callRow.ok && Object.keys(callRow.data)).not.toContain('resource');
    expect(dbRow.ok && dbRow.data.resource).toBe('issues');
  });
});
