import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signatureHeaders, signingKeyOf } from '../../../connectors/webhook/webhook-signature.js';

// The example of the Standard Webhooks specification (the reference library's own test vector).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const BODY = '{"test": 2432232314}';
const AT_MS = 1_614_265_330_000;

describe('webhook signature', () => {
  it('matches the specification example, and the reference library verifies it', () => {
    const headers = signatureHeaders(signingKeyOf(SECRET), ID, BODY, AT_MS + 999);
    expect(headers).toEqual({ 'webhook-id': ID, 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' });
    // The library checks the timestamp against its clock: give it a signature made now.
    const now = signatureHeaders(signingKeyOf(SECRET), ID, BODY);
    expect(new Webhook(SECRET).verify(BODY, now)).toEqual({ test: 2432232314 });
  });

  it('signs the id, the time and the body: changing any of them changes the signature', () => {
    const key = signingKeyOf(SECRET);
    const base = signatureHeaders(key, ID, BODY, AT_MS)['webhook-signature'];
    expect(signatureHeaders(key, 'msg_other', BODY, AT_MS)['webhook-signature']).not.toBe(base);
    expect(signatureHeaders(key, ID, `${BODY} `, AT_MS)['webhook-signature']).not.toBe(base);
    expect(signatureHeaders(key, ID, BODY, AT_MS + 1000)['webhook-signature']).not.toBe(base);
    expect(signatureHeaders(signingKeyOf('whsec_b3RoZXI='), ID, BODY, AT_MS)['webhook-signature']).not.toBe(base);
  });
});
