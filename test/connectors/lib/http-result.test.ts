import { describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../../../connectors/connector.js';
import { classifyHttpResponse, networkFailure, parseRetryAfter, readResponseText } from '../../../connectors/lib/http-result.js';

// The one place every HTTP sink classifies its answers: a wrong boundary here retries a request
// that can never work (duplicates) or dead-letters one that would have (lost data).
describe('classifyHttpResponse', () => {
  it.each<[number, DeliveryResult['status']]>([
    [199, 'permanent'],
    [200, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [300, 'permanent'],
    [400, 'permanent'],
    [404, 'permanent'],
    [407, 'permanent'],
    [408, 'retry'],
    [409, 'permanent'],
    [428, 'permanent'],
    [429, 'retry'],
    [430, 'permanent'],
    [499, 'permanent'],
    [500, 'retry'],
    [503, 'retry'],
  ])('HTTP %i → %s', (status, expected) => {
    expect(classifyHttpResponse(status, {}).status).toBe(expected);
  });

  it('a delivered answer records its status', () => {
    expect(classifyHttpResponse(201, {})).toEqual({ status: 'delivered', info: { status: 201 } });
  });

  it('the reason names the status and keeps at most 500 characters of the body', () => {
    expect(classifyHttpResponse(400, {})).toEqual({ status: 'permanent', reason: 'HTTP 400' });
    expect(classifyHttpResponse(400, {}, '')).toEqual({ status: 'permanent', reason: 'HTTP 400' });
    expect(classifyHttpResponse(400, {}, 'bad field')).toEqual({ status: 'permanent', reason: 'HTTP 400: bad field' });
    const long = `${'x'.repeat(500)}TAIL`;
    expect(classifyHttpResponse(502, {}, long)).toEqual({ status: 'retry', reason: `HTTP 502: ${'x'.repeat(500)}` });
  });

  it.each<[string, Headers | Record<string, string | undefined>, number | undefined]>([
    ['a plain object, any case', { 'Retry-After': '3' }, 3000],
    ['a plain object, lower case', { 'retry-after': '2' }, 2000],
    ['a Headers object', new Headers({ 'retry-after': '4' }), 4000],
    ['no header', { 'content-type': 'text/plain' }, undefined],
    ['no header in Headers', new Headers(), undefined],
  ])('honours Retry-After from %s', (_name, headers, retryAfterMs) => {
    const result = classifyHttpResponse(429, headers);
    expect(result).toEqual({ status: 'retry', reason: 'HTTP 429', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-04T10:00:00.000Z');
  it.each<[string | null | undefined, number | undefined]>([
    [undefined, undefined],
    [null, undefined],
    ['', undefined],
    ['0', 0],
    ['5', 5000],
    [' 7 ', 7000],
    ['1.5', 1500],
    ['1.25', 1250],
    // Not delay-seconds: V8's Date.parse reads these as dates in the past, so "retry now".
    ['1.', 0],
    ['.5', 0],
    ['-1', 0],
    ['x5', undefined],
    ['5x', undefined],
    ['Tue, 04 Mar 2025 10:00:30 GMT', 30_000],
    ['Tue, 04 Mar 2025 09:59:00 GMT', 0],
    ['not a date', undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('defaults "now" to the clock', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const ms = parseRetryAfter(inAMinute)!;
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});

describe('networkFailure', () => {
  it.each<[string, unknown, string]>([
    [
      'the cause code first',
      Object.assign(new TypeError('fetch failed'), { code: 'OUTER', cause: { code: 'ECONNREFUSED' } }),
      'network error (ECONNREFUSED): fetch failed',
    ],
    ['then the error code', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'network error (ECONNRESET): socket hang up'],
    ['then the error name', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'network error (TimeoutError): timed out'],
    ['a bare object', {}, 'network error (error): [object Object]'],
    ['a string', 'boom', 'network error (error): boom'],
  ])('is always retryable and names %s', (_name, err, reason) => {
    expect(networkFailure(err)).toEqual({ status: 'retry', reason });
  });
});

describe('readResponseText', () => {
  it('returns the body up to the limit', async () => {
    expect(await readResponseText(new Response('hello'))).toBe('hello');
    expect(await readResponseText(new Response('hello'), 5)).toBe('hello');
    expect(await readResponseText(new Response('hello'), 4)).toBe('hell');
    expect(await readResponseText(new Response('x'.repeat(5000)))).toHaveLength(4096);
  });

  it('reads a body that fails mid-way as empty instead of throwing', async () => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('partial'));
        controller.error(new Error('connection reset'));
      },
    });
    expect(await readResponseText(new Response(body))).toBe('');
  });
});
