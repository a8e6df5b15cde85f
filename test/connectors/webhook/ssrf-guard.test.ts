import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { guardedLookup, isPrivateAddress, SsrfBlockedError } from '../../../connectors/webhook/ssrf-guard.js';

/** What the webhook connector hands the guard for a URL: WHATWG's hostname without IPv6 brackets. */
function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

function lookup(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    guardedLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as unknown as LookupAddress[])));
  });
}

describe('SSRF guard: address classification', () => {
  it.each([
    // IPv4 private, loopback, link-local, shared, reserved
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['0.0.0.0', true],
    ['10.0.0.1', true],
    ['100.64.0.1', true],
    ['169.254.169.254', true],
    ['172.16.0.1', true],
    ['172.31.255.255', true],
    ['192.168.0.1', true],
    ['192.0.0.8', true],
    ['192.0.2.1', true],
    ['198.18.0.1', true],
    ['198.51.100.7', true],
    ['203.0.113.9', true],
    ['224.0.0.1', true],
    ['255.255.255.255', true],
    // IPv6 special ranges
    ['::', true],
    ['::1', true],
    ['::127.0.0.1', true],
    ['::7f00:1', true],
    ['::8.8.8.8', true], // IPv4-compatible: deprecated, never a real public target
    ['fc00::1', true],
    ['fd12:3456::1', true],
    ['fe80::1', true],
    ['fe80::1%lo', true],
    ['febf::1', true],
    ['fec0::1', true],
    ['feff::1', true],
    ['ff02::1', true],
    ['100::1', true],
    ['2001:db8::1', true],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', true], // Teredo
    ['64:ff9b:1::a00:1', true], // local-use NAT64
    // IPv4 embedded in IPv6: classified by the embedded address
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::FFFF:10.0.0.1', true],
    ['::ffff:0:127.0.0.1', true], // SIIT translated
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::127.0.0.1', true],
    ['64:ff9b::a9fe:a9fe', true], // NAT64 of 169.254.169.254
    ['64:ff9b::c0a8:101', true], // NAT64 of 192.168.1.1
    ['64:ff9b::808:808', false], // NAT64 of 8.8.8.8
    ['2002:7f00:1::', true], // 6to4 of 127.0.0.1
    ['2002:a00:1::1', true], // 6to4 of 10.0.0.1
    ['2002:c0a8:101:1::1', true], // 6to4 of 192.168.1.1
    ['2002:808:808::1', false], // 6to4 of 8.8.8.8
    // public
    ['8.8.8.8', false],
    ['1.1.1.1', false],
    ['93.184.216.34', false],
    ['172.32.0.1', false],
    ['2606:4700:4700::1111', false],
    ['2a00:1450:4001:81c::200e', false],
    ['2606:4700::1111%eth0', false], // a zone id is not part of the address
    // public IPv6 whose bytes look like a carrier form in the wrong place: judged as IPv6, not by
    // the IPv4 they would embed (127.0.0.1 or 10.0.0.1 here)
    ['2606:4700::ff:7f00:1', false],
    ['2606:4700::ff00:7f00:1', false],
    ['2606:4700::ffff:7f00:1', false],
    ['2606:4700::ff:0:7f00:1', false],
    ['2606:4700::ffff:0:7f00:1', false],
    ['2606:9b::7f00:1', false],
    ['2606:ff9b::7f00:1', false],
    ['2664:ff9b::7f00:1', false],
    ['2606:a00:1::1', false],
    ['3002:a00:1::1', false], // not 6to4 (2002::/16) although its second byte is 02
    // the embedded IPv4 is read byte by byte, in order
    ['64:ff9b::c000:101', false], // NAT64 of 192.0.1.1 (public), next to 192.0.0.0/24
    ['::ffff:192.168.100.100', true], // multi-digit octets in the dotted tail
    ['::ffff:100.64.100.100', true],
    // not an address at all: refused
    ['localhost', true],
    ['', true],
  ])('%s → private %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  // WHATWG URL parsing normalises odd IPv4 spellings before the connector sees the host; what
  // reaches the guard must still be classified as the address it means.
  it.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://012.0.0.1/', '10.0.0.1'],
    ['http://[::127.0.0.1]/', '::7f00:1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[64:ff9b::10.0.0.1]/', '64:ff9b::a00:1'],
    ['http://[0:0:0:0:0:0:0:1]/', '::1'],
  ])('%s reaches the guard as %s and is refused', (url, host) => {
    expect(hostOf(url)).toBe(host);
    expect(isPrivateAddress(hostOf(url))).toBe(true);
  });
});

describe('SSRF guard: DNS lookup', () => {
  function lookupOne(hostname: string): Promise<unknown[]> {
    return new Promise((resolve) => guardedLookup(hostname, {}, (...args: unknown[]) => resolve(args)));
  }

  it('answers a public address with one address and its family when all is not asked for', async () => {
    expect(await lookupOne('8.8.8.8')).toEqual([null, '8.8.8.8', 4]);
    expect(await lookup('8.8.8.8')).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });

  it('answers a refused name with the error, an empty address and family 0, as node expects', async () => {
    const [err, address, family] = await lookupOne('localhost');
    expect(err).toBeInstanceOf(SsrfBlockedError);
    expect(err).toMatchObject({ code: 'ESSRFBLOCKED', name: 'SsrfBlockedError' });
    expect([address, family]).toEqual(['', 0]);
  });

  it('passes a resolver failure through unchanged', async () => {
    const [err, address, family] = await lookupOne('no-such-host.invalid');
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(SsrfBlockedError);
    expect((err as NodeJS.ErrnoException).code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    expect([address, family]).toEqual(['', 0]);
  });

  it('refuses a name whose resolved address is private (the check runs on what DNS returns)', async () => {
    await expect(lookup('localhost')).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(lookup('localhost')).rejects.toThrow(/refusing to connect to localhost \((127\.0\.0\.1|::1)\).*allowPrivateNetworks: true/);
  });

  it('refuses an odd IPv4 spelling that the resolver turns into loopback', async () => {
    // getaddrinfo reads inet_aton forms, so a host that skipped WHATWG normalisation still resolves.
    await expect(lookup('2130706433')).rejects.toBeInstanceOf(SsrfBlockedError);
    await expect(lookup('0x7f.1')).rejects.toBeInstanceOf(SsrfBlockedError);
  });
});
