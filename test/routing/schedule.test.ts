import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/core/log.js';
import { activeTimeSchema, routeSchema } from '../../src/routing/route-schema.js';
import { Router } from '../../src/routing/router.js';
import { compileSchedule, ScheduleError } from '../../src/routing/schedule.js';
import { CollectConnector } from '../helpers/collect-connector.js';

const lazyRedis = new Redis({ lazyConnect: true, port: 1, enableOfflineQueue: false });
afterAll(() => lazyRedis.disconnect());

const at = (iso: string) => Date.parse(iso);
const windows = (...w: unknown[]) => compileSchedule(w.map((x) => activeTimeSchema.parse(x)));

describe('activeTimes', () => {
  const office = windows({ days: ['mon-fri'], from: '08:00', to: '20:00', tz: 'Europe/London' });

  it.each([
    ['2025-03-04T07:59:00Z', false], // Tue 07:59 GMT
    ['2025-03-04T08:00:00Z', true],
    ['2025-03-04T19:59:59Z', true],
    ['2025-03-04T20:00:00Z', false], // `to` is exclusive
    ['2025-03-08T12:00:00Z', false], // Saturday
    ['2025-07-01T07:30:00Z', true], // 08:30 BST: the zone's summer time is honoured
    ['2025-07-01T19:30:00Z', false], // 20:30 BST
  ])('office hours at %s → %s', (iso, active) => {
    expect(office.isActive(at(iso))).toBe(active);
  });

  /**
   * Windows that start and end off the hour, one row per edge: a start or end minute read wrong
   * (the minutes ignored, `>=` read as `>`) moves an edge and flips one of these.
   */
  const edges = {
    day: { days: ['mon-fri'], from: '08:30', to: '17:45', tz: 'UTC' },
    overnight: { days: ['fri'], from: '22:15', to: '06:45', tz: 'UTC' },
    kolkata: { days: ['mon'], from: '09:15', to: '10:20', tz: 'Asia/Kolkata' }, // UTC+05:30
  };
  it.each([
    ['day', '2025-03-04T08:29:59Z', false], // Tue, a second before the start minute
    ['day', '2025-03-04T08:30:00Z', true], // the start minute is inside
    ['day', '2025-03-04T08:31:00Z', true],
    ['day', '2025-03-04T17:44:59Z', true],
    ['day', '2025-03-04T17:45:00Z', false], // the end minute is outside
    ['overnight', '2025-03-07T22:14:59Z', false], // Fri
    ['overnight', '2025-03-07T22:15:00Z', true],
    ['overnight', '2025-03-08T06:44:59Z', true], // Sat, the morning after
    ['overnight', '2025-03-08T06:45:00Z', false],
    ['overnight', '2025-03-08T22:15:00Z', false], // Sat is not a start day
    ['kolkata', '2025-03-03T03:44:59Z', false], // Mon 09:14:59 IST
    ['kolkata', '2025-03-03T03:45:00Z', true], // Mon 09:15 IST
    ['kolkata', '2025-03-03T04:49:59Z', true],
    ['kolkata', '2025-03-03T04:50:00Z', false], // Mon 10:20 IST
  ] as const)('%s window edge at %s → %s', (which, iso, active) => {
    expect(windows(edges[which]).isActive(at(iso))).toBe(active);
  });

  it('overnight windows run into the next day, by the day they start', () => {
    const night = windows({ days: ['fri'], from: '22:00', to: '06:00', tz: 'UTC' });
    expect(night.isActive(at('2025-03-07T23:00:00Z'))).toBe(true); // Fri 23:00
    expect(night.isActive(at('2025-03-08T05:59:00Z'))).toBe(true); // Sat 05:59
    expect(night.isActive(at('2025-03-08T06:00:00Z'))).toBe(false);
    expect(night.isActive(at('2025-03-06T23:00:00Z'))).toBe(false); // Thu
  });

  it('day ranges wrap around the week and several windows combine', () => {
    const weekend = windows({ days: ['sat-sun'] }, { days: ['wed'], from: '12:00', to: '13:00', tz: 'Asia/Tokyo' });
    expect(weekend.isActive(at('2025-03-09T10:00:00Z'))).toBe(true); // Sunday
    expect(weekend.isActive(at('2025-03-05T03:30:00Z'))).toBe(true); // Wed 12:30 JST
    expect(weekend.isActive(at('2025-03-05T05:30:00Z'))).toBe(false);
  });
});

describe('activeTimes edges', () => {
  it.each([
    ['2025-03-04T08:14:00Z', false],
    ['2025-03-04T08:15:00Z', true], // minutes count: 08:15, not 08:00
    ['2025-03-04T08:44:00Z', true],
    ['2025-03-04T08:45:00Z', false],
  ])('a window inside one hour (08:15-08:45 UTC) at %s → %s', (iso, active) => {
    const w = windows({ days: ['tue'], from: '08:15', to: '08:45', tz: 'UTC' });
    expect(w.isActive(at(iso))).toBe(active);
  });

  it.each([
    ['2025-03-07T21:59:00Z', false], // Fri, before the start
    ['2025-03-07T22:00:00Z', true], // Fri, the start is inclusive
    ['2025-03-08T21:59:00Z', false], // Sat evening: the window starts on Fridays only
    ['2025-03-08T22:30:00Z', false],
  ])('an overnight window (fri 22:00-06:00 UTC) at %s → %s', (iso, active) => {
    const night = windows({ days: ['fri'], from: '22:00', to: '06:00', tz: 'UTC' });
    expect(night.isActive(at(iso))).toBe(active);
  });

  it('describes every window for explanations', () => {
    expect(
      windows({ days: ['mon-fri', 'sun'], from: '08:00', to: '20:00', tz: 'UTC' }, { days: ['sat'], from: '10:00', to: '11:00', tz: 'Asia/Tokyo' }).description,
    ).toBe('mon-fri,sun 08:00-20:00 UTC; sat 10:00-11:00 Asia/Tokyo');
  });

  it.each([
    [{ days: ['mon'], from: '08:00', to: '08:00', tz: 'UTC' }, 'from and to are both 08:00: the window would be empty'],
    [{ days: ['mon'], from: '08:00', to: '09:00', tz: 'Mars/Olympus' }, 'unknown time zone "Mars/Olympus": use an IANA name such as Europe/London or UTC'],
  ])('refuses %j with a ScheduleError', (window, message) => {
    let caught: unknown;
    try {
      windows(window);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ScheduleError);
    expect(caught).toMatchObject({ code: 'schedule_invalid', name: 'ScheduleError', message });
  });
});

describe('quiet hours route with a fixed clock', () => {
  const clock = { now: 0 };
  const pager = new CollectConnector({ summary: '{{ data.triggerName }}' });
  const slack = new CollectConnector({ text: 'quiet hours: {{ data.triggerName }}' });
  const router = Router.compile(
    [
      {
        name: 'page-in-office-hours',
        match: { kind: 'moment' },
        to: ['pager'],
        activeTimes: [{ days: ['mon-fri'], from: '08:00', to: '20:00', tz: 'Europe/London' }],
      },
      { name: 'fallback', match: { kind: 'moment' }, to: ['slack'] },
    ].map((r) => routeSchema.parse(r)),
    {
      redis: lazyRedis,
      keyPrefix: 't:',
      logger: silentLogger(),
      connectors: new Map([
        ['pager', pager],
        ['slack', slack],
      ]),
      now: () => clock.now,
    },
  );
  const e: BridgeEvent = { id: 'm:moment:1', source: 'm', kind: 'moment', time: '2025-03-04T10:00:00Z', data: { triggerName: 'HR' } };

  it('inside the window the pager gets it; outside, the event falls through to the fallback', async () => {
    clock.now = at('2025-03-04T10:00:00Z');
    expect((await router.route(e)).map((d) => d.connector)).toEqual(['pager']);
    clock.now = at('2025-03-04T22:00:00Z');
    expect((await router.route(e)).map((d) => [d.connector, d.payload])).toEqual([['slack', { text: 'quiet hours: HR' }]]);
    const why = router.explain(e).routes[0]!;
    expect(why.status).toBe('no-match');
    expect(why.reason).toBe('activeTimes: 2025-03-04T22:00:00.000Z is outside mon-fri 08:00-20:00 Europe/London');
    expect(router.explain(e, { now: at('2025-03-04T09:00:00Z') }).routes[0]!.status).toBe('matched');
  });
});
