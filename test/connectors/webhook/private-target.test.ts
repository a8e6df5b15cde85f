import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { webhookConfigSchema } from '../../../connectors/webhook/config.js';
import { webhookConnector } from '../../../connectors/webhook/index.js';
import { isPrivateAddress } from '../../../connectors/webhook/ssrf-guard.js';
import { privateTargetProblem, probeWebhookTarget } from '../../../connectors/webhook/private-target.js';

const config = (url: string, allowPrivateNetworks = false) => webhookConfigSchema.parse({ type: 'webhook', url, allowPrivateNetworks });

describe('webhook targets the SSRF guard would refuse, found at load', () => {
  it.each([
    ['http://127.0.0.1:8080/x', true],
    ['http://127.1/x', true], // normalised by the URL parser to 127.0.0.1
    ['http://10.0.0.7/x', true],
    ['http://169.254.169.254/latest/meta-data', true],
    ['http://[::1]:8080/x', true],
    ['http://[::ffff:127.0.0.1]/x', true],
    ['http://localhost:8080/x', true],
    ['http://LOCALHOST./x', true],
    ['http://api.localhost/x', true],
    ['https://93.184.216.34/x', false],
    ['https://hooks.example.com/x', false], // a name: resolved by check --online
  ])('%s refused: %s', (url, refused) => {
    expect(privateTargetProblem(url) !== undefined).toBe(refused);
  });

  it('configProblems: the url, a route override url, nothing with allowPrivateNetworks', () => {
    const problems = webhookConnector.configProblems!;
    expect(problems(config('http://127.0.0.1/x'))).toEqual([{ path: ['url'], message: expect.stringContaining('set allowPrivateNetworks: true') }]);
    expect(problems(config('https://hooks.example.com/x'), { url: 'http://192.168.1.10/x' })).toEqual([
      { path: ['url'], message: expect.stringMatching(/^192\.168\.1\.10 is a private/) },
    ]);
    expect(problems(config('https://hooks.example.com/x'), { channel: 'x' })).toEqual([]);
    expect(problems(config('http://127.0.0.1/x', true))).toEqual([]);
    expect(problems(config('https://hooks.example.com/x', true), { url: 'http://10.0.0.1/' })).toEqual([]);
  });
});

describe('probeWebhookTarget (check --online)', () => {
  it('resolves a host name and fails when it points into a private network, as the guard will at delivery', async () => {
    // This machine's own name: resolved through the system resolver (/etc/hosts), like deliveries.
    const name = hostname();
    const addresses = (await lookup(name, { all: true })).map((a) => a.address);
    const result = await probeWebhookTarget(config(`http://${name}:8080/x`));
    if (addresses.some(isPrivateAddress)) {
      expect(result).toEqual({
        status: 'failed',
        detail: expect.stringMatching(new RegExp(`^${name} resolves to .*the SSRF guard will refuse every delivery; set allowPrivateNetworks: true`)),
      });
    } else {
      expect(result.status).toBe('not-checked');
    }
    expect((await probeWebhookTarget(config(`http://${name}:8080/x`, true))).status).toBe('not-checked');
  });

  it('fails on a name that does not resolve', async () => {
    const result = await probeWebhookTarget(config('http://no-such-host.invalid/x'));
    expect(result).toEqual({ status: 'failed', detail: expect.stringMatching(/^cannot resolve no-such-host\.invalid: .*(ENOTFOUND|EAI_AGAIN)/) });
  });

  it('sends nothing for a literal public address: not checked', async () => {
    expect(await probeWebhookTarget(config('https://93.184.216.34/x'))).toEqual({ status: 'not-checked', detail: expect.stringContaining('no harmless call') });
  });
});
