import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/cli/commands/check.js';
import { startKinesalite, TEST_CREDENTIALS, type Kinesalite } from '../../simulators/sinks/kinesis/kinesalite-server.js';
import { startSheetsApiServer, type SheetsApiServer } from '../../simulators/sinks/sheets/sheets-api-server.js';
import { startSlackApiServer, type SlackApiServer } from '../../simulators/sinks/slack/slack-api-server.js';
import { runCli } from '../helpers/cli.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';

const EMAIL = 'bridge@project.iam.gserviceaccount.com';
const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const stranger = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

let redis: TestRedis;
let slack: SlackApiServer;
let sheets: SheetsApiServer;
let kinesis: Kinesalite;
let dir: string;

beforeAll(async () => {
  [redis, slack, sheets, kinesis] = await Promise.all([
    startTestRedis(),
    startSlackApiServer({ tokens: ['xoxb-good'] }),
    startSheetsApiServer({ spreadsheets: ['sheet-1'], serviceAccounts: [{ clientEmail: EMAIL, publicKey }] }),
    startKinesalite(),
  ]);
  await kinesis.createStream('moments', 2);
  dir = mkdtempSync(join(tmpdir(), 'mb-check-sinks-'));
  const key = (pem: string) => JSON.stringify({ type: 'service_account', client_email: EMAIL, private_key: pem, token_uri: sheets.tokenUri });
  writeFileSync(join(dir, 'sa.json'), key(privateKey));
  writeFileSync(join(dir, 'stranger.json'), key(stranger.privateKey));
});
afterAll(async () => {
  await Promise.all([redis.stop(), slack.stop(), sheets.stop(), kinesis.stop()]);
});

function config(redisUrl: string): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  const kinesisBase = `type: kinesis, endpoint: "${kinesis.endpoint}", region: us-east-1, credentials: { accessKeyId: ${TEST_CREDENTIALS.accessKeyId}, secretAccessKey: ${TEST_CREDENTIALS.secretAccessKey} }`;
  const sheet = (keyFile: string) => `type: sheets, spreadsheetId: sheet-1, columns: { Id: "{{ id }}" }, serviceAccountKey: { file: ${join(dir, keyFile)} }`;
  writeFileSync(
    file,
    [
      `redis: { url: "${redisUrl}" }`,
      'connectors:',
      `  slack-ok: { type: slack, token: xoxb-good, channel: "#ops", apiUrl: "${slack.url}" }`,
      `  slack-bad: { type: slack, token: xoxb-revoked, channel: "#ops", apiUrl: "${slack.url}" }`,
      `  sheet-ok: { ${sheet('sa.json')} }`,
      `  sheet-bad: { ${sheet('stranger.json')} }`,
      `  stream-ok: { ${kinesisBase}, stream: moments }`,
      `  stream-missing: { ${kinesisBase}, stream: nosuch }`,
      '  pager: { type: pagerduty, routingKey: R0123456789abcdef0123456789abcdef }',
      'routes:',
      '  - { name: all, to: [slack-ok, slack-bad, sheet-ok, sheet-bad, stream-ok, stream-missing, pager] }',
      '',
    ].join('\n'),
  );
  return file;
}

describe('moments-bridge check --online: Redis and sink credentials', () => {
  it('reports each as ok / failed with the reason / not checked, and exits 1 when one fails', async () => {
    const result = await runCli(['check', '--online', '-c', config(redis.url)]);
    expect(result.code).toBe(1);
    const line = (target: string) => result.stdout.split('\n').find((l) => l.includes(`  ${target}  `)) ?? `(no line for ${target})`;
    expect(line('redis')).toMatch(new RegExp(`^  ok +redis  ${redis.url.replace(/[/.]/g, '\\$&')}: connected \\(Redis \\d`));
    expect(line('connectors.slack-ok')).toMatch(/^ {2}ok +connectors\.slack-ok {2}auth\.test: token of moments-bridge in team Simulated$/);
    expect(line('connectors.slack-bad')).toMatch(/^ {2}failed +connectors\.slack-bad {2}auth\.test at .* failed: invalid_auth: check the token/);
    expect(line('connectors.sheet-ok')).toMatch(
      new RegExp(`^  ok +connectors\\.sheet-ok  token exchange for the service-account key: access token issued to ${EMAIL}`),
    );
    expect(line('connectors.sheet-bad')).toMatch(/^ {2}failed +connectors\.sheet-bad {2}token exchange for the service-account key failed: .*invalid_grant/);
    expect(line('connectors.stream-ok')).toMatch(/^ {2}ok +connectors\.stream-ok {2}DescribeStreamSummary: stream moments is ACTIVE, 2 open shard\(s\)$/);
    expect(line('connectors.stream-missing')).toMatch(
      /^ {2}failed +connectors\.stream-missing {2}DescribeStreamSummary for nosuch failed: ResourceNotFoundException/,
    );
    expect(line('connectors.pager')).toMatch(/^ {2}not checked +connectors\.pager {2}no harmless call exists for pagerduty; nothing sent$/);
    // The failures again on stderr, one line each, and nothing was delivered anywhere.
    expect(
      result.stderr
        .trim()
        .split('\n')
        .map((l) => l.replace(/^moments-bridge: /, '').split(':')[0]),
    ).toEqual(['connectors.slack-bad', 'connectors.sheet-bad', 'connectors.stream-missing']);
    expect(slack.received).toHaveLength(0);
    expect(await kinesis.readAll('moments')).toHaveLength(0);
  });

  it('a Redis on a closed port: failed, naming the URL it tried with the password redacted; --json carries the same', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const result = await runCli(['check', '--online', '--json', '-c', config(`redis://:hunter2@127.0.0.1:${port}`)]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as CheckReport;
    expect(report.ok).toBe(false);
    expect(report.online?.[0]).toEqual({
      target: 'redis',
      status: 'failed',
      detail: expect.stringMatching(new RegExp(`^cannot connect to Redis at redis://:<secret>@127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`)),
    });
    expect(report.online?.map((c) => `${c.target} ${c.status}`)).toContain('connectors.stream-ok ok');
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});
