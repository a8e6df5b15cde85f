import { describe, expect, it } from 'vitest';
import { parseMoment, parseTrigger } from '../../../src/sources/moments/moments-schemas.js';

const T = '2026-03-01T10:00:00.000Z';
const snapshot = { publicId: 't-1', name: 'HR > 170', marker: { color: 'red' } };
/** A moment exactly as the vendor documents it. */
const documented = {
  publicId: 'm-1',
  triggerPublicId: 't-1',
  clientId: 3,
  athleteId: 7,
  eventId: 42,
  matches: [{ metric: 'heartrate', subMetric: 'current', value: 182 }],
  moment: 'HR 182',
  triggerObject: snapshot,
  triggerName: 'HR > 170',
  triggerMarker: { color: 'red', icon: '❤️' },
  createdAt: T,
};
const deepText = '['.repeat(100) + ']'.repeat(100);

describe('parseMoment: tolerant where the wire may differ, strict only where routing needs it', () => {
  it.each([
    ['the documented shape', {}, { ok: true, value: documented }],
    [
      'ids as numeric strings (AppSync model style)',
      { clientId: '3', athleteId: '7', eventId: '42' },
      { ok: true, value: { clientId: 3, athleteId: 7, eventId: 42 } },
    ],
    [
      'an id that is no safe integer stays a string',
      { athleteId: '90071992547409931', clientId: 'acme' },
      { ok: true, value: { athleteId: '90071992547409931', clientId: 'acme' } },
    ],
    [
      'object fields as AWSJSON strings',
      { triggerObject: JSON.stringify(snapshot), triggerMarker: '{"color":"red","icon":"❤️"}', matches: JSON.stringify(documented.matches) },
      { ok: true, value: { triggerObject: snapshot, triggerMarker: { color: 'red', icon: '❤️' }, matches: documented.matches } },
    ],
    ['a marker that is plain text is kept as it came', { triggerMarker: '🔥' }, { ok: true, value: { triggerMarker: '🔥' } }],
    [
      'wrong types elsewhere are kept, not quarantined',
      { moment: 12, eventId: null, matches: 'n/a' },
      { ok: true, value: { moment: 12, eventId: null, matches: 'n/a' } },
    ],
    ['unknown extra fields are kept', { venue: { name: 'Track 1' }, heat: 3 }, { ok: true, value: { venue: { name: 'Track 1' }, heat: 3 } }],
    ['a numeric publicId becomes a string', { publicId: 1234 }, { ok: true, value: { publicId: '1234' } }],
    ['optional fields may be absent', { triggerPublicId: undefined, triggerName: undefined, triggerMarker: undefined }, { ok: true }],
    ['no publicId', { publicId: undefined }, { ok: false, reason: 'publicId: expected a non-empty string, received nothing' }],
    ['an empty publicId', { publicId: '' }, { ok: false, reason: expect.stringMatching(/^publicId/) }],
    ['a createdAt that is no date', { createdAt: 'yesterday' }, { ok: false, reason: 'createdAt: expected an ISO-8601 date-time, received "yesterday"' }],
    ['no createdAt', { createdAt: undefined }, { ok: false, reason: expect.stringMatching(/^createdAt/) }],
    ['AWSJSON nested too deep', { triggerObject: deepText }, { ok: false, reason: expect.stringMatching(/^triggerObject: JSON nesting deeper than 64/) }],
    [
      'AWSJSON too big',
      { triggerObject: JSON.stringify({ blob: 'x'.repeat(300_000) }) },
      { ok: false, reason: expect.stringMatching(/^triggerObject: JSON text of \d+ characters exceeds/) },
    ],
    [
      'an already-parsed object nested too deep',
      { extra: JSON.parse(deepText) as unknown },
      { ok: false, reason: expect.stringMatching(/moment has nesting deeper than 64/) },
    ],
  ])('%s', (_name, change, expected) => {
    const raw: Record<string, unknown> = { ...documented, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete raw[k];
    expect(parseMoment(raw)).toMatchObject(expected);
  });

  it('refuses only the bad object: the others of the same page parse', () => {
    const page = [documented, { ...documented, publicId: 'm-2', triggerObject: deepText }, { ...documented, publicId: 'm-3', eventId: '43' }];
    expect(page.map((m) => parseMoment(m).ok)).toEqual([true, false, true]);
  });

  it('does not change the object it was given', () => {
    const raw = { ...documented, eventId: '42' };
    parseMoment(raw);
    expect(raw.eventId).toBe('42');
  });
});

describe('parseTrigger', () => {
  const trigger = {
    publicId: 't-1',
    clientId: 3,
    isActive: 1,
    name: 'HR > 170',
    outputTemplate: 'HR {{value}}',
    labels: ['physio'],
    marker: { color: 'red' },
    criteria: [{ datasetDatasourceId: 5, metric: 'heartrate', subMetric: 'current', type: 'gt', threshold: 170 }],
    createdAt: T,
    updatedAt: T,
  };

  it.each([
    ['the documented shape', {}, { ok: true, value: trigger }],
    [
      'numeric strings, AWSJSON marker and criteria',
      { clientId: '3', isActive: '0', marker: '{"color":"red"}', criteria: JSON.stringify([{ ...trigger.criteria[0], datasetDatasourceId: '5' }]) },
      { ok: true, value: { clientId: 3, isActive: 0, marker: { color: 'red' }, criteria: trigger.criteria } },
    ],
    ['isActive as a boolean', { isActive: true }, { ok: true, value: { isActive: 1 } }],
    ['only createdAt parses', { updatedAt: undefined }, { ok: true }],
    ['neither time parses', { updatedAt: 'never', createdAt: undefined }, { ok: false, reason: expect.stringMatching(/^updatedAt\/createdAt/) }],
    ['no publicId', { publicId: null }, { ok: false, reason: expect.stringMatching(/^publicId.*null/) }],
    ['criteria too deep', { criteria: '['.repeat(70) + ']'.repeat(70) }, { ok: false, reason: expect.stringMatching(/^criteria: JSON nesting/) }],
  ])('%s', (_name, change, expected) => {
    const raw: Record<string, unknown> = { ...trigger, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete raw[k];
    expect(parseTrigger(raw)).toMatchObject(expected);
  });
});
