import { randomBytes } from 'node:crypto';
import { startKinesalite, type Kinesalite } from '../sinks/kinesis/kinesalite-server.js';
import { startMomentsSimulator, type MomentsSimulator } from '../moments/moments-simulator.js';
import { ObserverSimulator } from '../observer/index.js';
import { startPagerdutyServer, type PagerdutyServer } from '../sinks/pagerduty/pagerduty-server.js';
import { startSheetsApiServer, type SheetsApiServer } from '../sinks/sheets/sheets-api-server.js';
import { startSlackApiServer, type SlackApiServer } from '../sinks/slack/slack-api-server.js';
import { startWebhookReceiver, type WebhookReceiver } from '../sinks/webhook/webhook-receiver.js';

export interface DemoStackOptions {
  /** Generated moments per second (0: none). @defaultValue 1 */
  momentsPerSecond?: number;
  /** Ongoing calls in the Observer simulator. @defaultValue 2 */
  calls?: number;
  /** Observer snapshot interval in ms. @defaultValue 2000 */
  snapshotEvery?: number;
}

/** Everything the demo config (`examples/demo.yaml`) points at, all on 127.0.0.1. */
export interface DemoStack {
  /** The MB_DEMO_* variables examples/demo.yaml reads. */
  env: Record<string, string>;
  moments: MomentsSimulator;
  observer: ObserverSimulator;
  slack: SlackApiServer;
  pagerduty: PagerdutyServer;
  webhook: WebhookReceiver;
  sheets: SheetsApiServer;
  kinesis: Kinesalite;
  stop(): Promise<void>;
}

const SPREADSHEET_ID = 'demo-spreadsheet';
const KINESIS_STREAM = 'entrypoint';

/**
 * Starts the upstream simulators (Moments in generator mode, Observer with live calls) and local
 * stand-ins for every sink (Slack, PagerDuty, webhook receiver, Sheets, kinesalite). Secrets are
 * random per run.
 */
export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const secret = (n: number) => randomBytes(n).toString('hex');
  const slackToken = `xoxb-demo-${secret(8)}`;
  const pdKey = secret(16);
  const sheetsToken = `ya29.demo-${secret(8)}`;
  const observerToken = `obs-${secret(8)}`;
  const adminToken = secret(16);
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const aws = { accessKeyId: 'AKIDDEMO', secretAccessKey: secret(12) };
  const stoppers: (() => Promise<void>)[] = [];
  const track = <T extends { stop(): Promise<void> }>(x: T): T => {
    stoppers.push(() => x.stop());
    return x;
  };
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
  };
  try {
    const rate = options.momentsPerSecond ?? 1;
    const moments = track(await startMomentsSimulator(rate > 0 ? { generator: { rate, athletes: 8 } } : {}));
    const observer = new ObserverSimulator({ accessToken: observerToken, snapshotEvery: options.snapshotEvery ?? 2_000 });
    await observer.start();
    stoppers.push(() => observer.stop());
    for (let i = 0; i < (options.calls ?? 2); i++) observer.startCall({ clients: 3 });
    const slack = track(await startSlackApiServer({ tokens: [slackToken] }));
    const pagerduty = track(await startPagerdutyServer({ routingKeys: [pdKey] }));
    const webhook = track(await startWebhookReceiver({ secret: webhookSecret }));
    const sheets = track(await startSheetsApiServer({ spreadsheets: [SPREADSHEET_ID], accessTokens: [sheetsToken] }));
    const kinesis = track(await startKinesalite());
    await kinesis.createStream(KINESIS_STREAM, 2);
    const env: Record<string, string> = {
      MB_DEMO_COGNITO_ENDPOINT: moments.cognitoEndpoint,
      MB_DEMO_GRAPHQL_URL: moments.graphqlUrl,
      MB_DEMO_MOMENTS_PASSWORD: 'demo-password',
      MB_DEMO_OBSERVER_URL: observer.url,
      MB_DEMO_OBSERVER_TOKEN: observerToken,
      MB_DEMO_SLACK_URL: slack.url.endsWith('/') ? slack.url : `${slack.url}/`,
      MB_DEMO_SLACK_TOKEN: slackToken,
      MB_DEMO_PAGERDUTY_URL: pagerduty.url,
      MB_DEMO_PAGERDUTY_KEY: pdKey,
      MB_DEMO_SHEETS_URL: sheets.url,
      MB_DEMO_SHEETS_TOKEN: sheetsToken,
      MB_DEMO_SPREADSHEET_ID: SPREADSHEET_ID,
      MB_DEMO_KINESIS_ENDPOINT: kinesis.endpoint,
      MB_DEMO_AWS_KEY_ID: aws.accessKeyId,
      MB_DEMO_AWS_SECRET: aws.secretAccessKey,
      MB_DEMO_WEBHOOK_URL: webhook.url,
      MB_DEMO_WEBHOOK_SECRET: webhookSecret,
      MB_DEMO_ADMIN_TOKEN: adminToken,
    };
    return { env, moments, observer, slack, pagerduty, webhook, sheets, kinesis, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
