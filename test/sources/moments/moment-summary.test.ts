import { describe, expect, it } from 'vitest';
import { momentEvent, momentSummary } from '../../../src/sources/moments/moment-event.js';
import type { TriggerCache } from '../../../src/sources/moments/trigger-cache.js';

// The moments source describes each moment for people (BridgeEvent.summary), so connectors' default
// layouts need not know what a moment looks like.

const raw = {
  publicId: 'm-1',
  triggerPublicId: 't-1',
  clientId: 3,
  athleteId: 7,
  eventId: 42,
  moment: 'Athlete 7 heart rate 182 bpm',
  matches: [{ metric: 'heartrate', subMetric: 'bpm', value: 182 }, { metric: 'speed', value: 27.456 }, null],
  createdAt: '2025-06-01T12:00:05Z',
};
const triggers = { lookup: async () => ({ name: 'HR > 170', marker: 'red', labels: ['hr'] }) } as unknown as TriggerCache;
const ctx = { name: 'moments', quarantine: async () => {} };

describe('moment summary', () => {
  it('is filled in when the source builds the event, from the moment and its trigger', async () => {
    const event = (await momentEvent(raw, ctx, triggers))!;
    expect(event.summary).toEqual({
      title: 'HR > 170',
      text: 'Athlete 7 heart rate 182 bpm',
      fields: [
        { label: 'Athlete', value: '7' },
        { label: 'Event', value: '42' },
        { label: 'Marker', value: 'red' },
        { label: 'heartrate / bpm', value: 182 },
        { label: 'speed', value: 27.456 },
        { label: 'metric', value: undefined },
      ],
      fieldsName: 'matches',
      color: 'red',
      context: ['moments', 'moment m-1', '2025-06-01T12:00:05Z'],
      groupKey: 'moment:t-1:7:42',
    });
  });

  it('stays lenient when the engine leaves fields out: a plain title, no text, the event time', () => {
    const summary = momentSummary('moments', '2025-06-01T12:00:05.000Z', { publicId: '', matches: 'none' } as never);
    expect(summary).toEqual({
      title: 'Moment',
      fields: [
        { label: 'Athlete', value: '' },
        { label: 'Event', value: '' },
      ],
      fieldsName: 'matches',
      context: ['moments', '', '2025-06-01T12:00:05.000Z'],
      groupKey: 'moment:trigger::',
    });
  });
});
