import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startWebhookReceiver, type WebhookReceiver } from '../../../../simulators/sinks/webhook/webhook-receiver.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let receiver: WebhookReceiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

function signed(id: string, body: string, secret = SECRET, at = new Date()): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
    'content-type': 'application/json',
  };
}

describe('webhook receiver', () => {
  it.each([
    ['a valid signature', () => signed('msg_1', '{"a":1}'), 204, true],
    ['another secret', () => signed('msg_1', '{"a":1}', `whsec_${randomBytes(32).toString('base64')}`), 401, false],
    ['a stale timestamp', () => signed('msg_1', '{"a":1}', SECRET, new Date(Date.now() - 10 * 60_000)), 401, false],
    ['no signature', () => ({ 'content-type': 'application/json' }), 401, false],
  ])('%s → %i', async (_n, headers, status, verified) => {
    receiver = await startWebhookReceiver({ secret: SECRET });
    const res = await fetch(receiver.url, { method: 'POST', headers: headers(), body: '{"a":1}' });
    expect(res.status).toBe(status);
    expect(receiver.requests[0]).toMatchObject({ status, verified });
    expect(receiver.received).toHaveLength(status === 204 ? 1 : 0);
  });

  it('injects statuses with Retry-After, then flags a repeated webhook-id as duplicate', async () => {
    receiver = await startWebhookReceiver({ secret: SECRET });
    receiver.injectStatus(429, 1, '3');
    const first = await fetch(receiver.url, { method: 'POST', headers: signed('msg_9', '{}'), body: '{}' });
    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '3']);
    await fetch(receiver.url, { method: 'POST', headers: signed('msg_9', '{}'), body: '{}' });
    await fetch(receiver.url, { method: 'POST', headers: signed('msg_9', '{}'), body: '{}' });
    expect(receiver.requests.map((r) => [r.status, r.duplicate])).toEqual([
      [429, false],
      [204, false],
      [204, true],
    ]);
  });
});
