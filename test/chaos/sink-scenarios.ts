/**
 * Chaos 9–12: every sink under its own failure modes, with the real connector (and the official
 * client where it uses one) against the local API servers of simulators/sinks/. One runner:
 * start the sink, deliver moments to it through a daemon, inject the sink's faults while they
 * flow, then count what the sink stored per event (messages, alerts, rows, stream records).
 */
import { sleep } from '../../bench/lib/measure.js';
import { startKinesalite, TEST_CREDENTIALS } from '../../simulators/sinks/kinesis/kinesalite-server.js';
import { startPagerdutyServer } from '../../simulators/sinks/pagerduty/pagerduty-server.js';
import { startSheetsApiServer } from '../../simulators/sinks/sheets/sheets-api-server.js';
import { startSlackApiServer } from '../../simulators/sinks/slack/slack-api-server.js';
import { startFailingKinesisProxy } from '../connectors/kinesis/failing-kinesis-proxy.js';
import { metricSum, startChaosRig, type DeliveryTargets } from './chaos-rig.js';
import { countReceipts } from './chaos-sink.js';
import type { ScenarioResult } from './scenarios.js';

/** A sink under test: where to deliver, which faults to inject, what to report. */
interface SinkUnderTest {
  delivery: DeliveryTargets;
  /** Runs the sink's fault bursts; called `faultAfterMs` into the load. */
  inject(): Promise<void>;
  figures(): Promise<Record<string, unknown>> | Record<string, unknown>;
  stop(): Promise<void>;
}

export interface SinkLoad {
  events: number;
  perSecond: number;
  faultAfterMs: number;
  settleMs: number;
}

async function runSinkScenario(name: string, sut: SinkUnderTest, p: SinkLoad): Promise<ScenarioResult> {
  const rig = await startChaosRig(name, { delivery: () => sut.delivery });
  try {
    const daemon = await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.faultAfterMs);
    await Promise.all([sut.inject(), load]);
    const tally = await rig.settle(p.settleMs);
    const depth = await rig.depth();
    const metric = (n: string, labels?: string) => metricSum(daemon.port, n, labels);
    return {
      ...tally,
      inFlightAtFault: 0,
      deadLetters: depth.failed,
      failedAttempts: await metric('mb_queue_attempts_failed_total'),
      rateLimitedWithoutAttempt: await metric('mb_queue_jobs_rate_limited_total'),
      ...(await sut.figures()),
    };
  } finally {
    await rig.stop();
    await sut.stop();
  }
}

const allMomentsTo = (to: string[]) => [{ name: 'all-moments', match: { kind: 'moment' }, to }];
const retry = { backoff: '100ms', maxBackoff: '1s', maxAttempts: 200 };

/**
 * Slack: three channels (a connector each), and a 429 + `Retry-After: 1` storm on every other
 * call. `maxAttempts: 1`: a Retry-After that spent an attempt would dead-letter the message.
 */
export async function slackStorm(p: SinkLoad & { stormCalls: number }): Promise<ScenarioResult> {
  const slack = await startSlackApiServer({ perChannelIntervalMs: 0 });
  const channels = ['chaos-a', 'chaos-b', 'chaos-c'];
  const connectors = Object.fromEntries(
    channels.map((c) => [
      c,
      {
        type: 'slack',
        token: 'xoxb-chaos',
        apiUrl: slack.url,
        channel: `#${c}`,
        text: '{{ id }}',
        rateLimit: { max: 20, duration: '1s' },
        retry: { maxAttempts: 1 },
        timeout: '10s',
      },
    ]),
  );
  return runSinkScenario(
    'slack',
    {
      delivery: {
        connectors,
        routes: allMomentsTo(channels),
        receipts: () => countReceipts(slack.received.map((m) => `${m.channelName}|${m.text ?? ''}`)),
        expand: (id) => channels.map((c) => `${c}|${id}`),
      },
      async inject() {
        for (let i = 0; i < p.stormCalls / 2; i++) {
          slack.injectStatus(429, 1, 1);
          slack.injectDelay(0, 1); // a pass: the next call is answered normally
        }
      },
      figures() {
        // After a 429 on a channel, its next request must come no sooner than Retry-After.
        let minGapAfter429Ms = Infinity;
        slack.requests.forEach((r, i) => {
          if (r.status !== 429) return;
          // A 429 recorded without its channel cannot be checked: count it as not waited out.
          if (!r.channel) minGapAfter429Ms = 0;
          const next = slack.requests.slice(i + 1).find((n) => n.channel === r.channel);
          if (next) minGapAfter429Ms = Math.min(minGapAfter429Ms, next.at - r.at);
        });
        return { channels: channels.length, answered429: slack.requests.filter((r) => r.status === 429).length, minGapAfter429Ms };
      },
      stop: slack.stop,
    },
    p,
  );
}

/** PagerDuty: bursts of 503, then of 429 (no Retry-After, as PagerDuty sends none); dedup_key = event id. */
export async function pagerdutyBursts(p: SinkLoad & { bursts: number; burstSize: number; gapMs: number }): Promise<ScenarioResult> {
  const pd = await startPagerdutyServer({ perMinute: 1_000_000 });
  let injected = 0;
  return runSinkScenario(
    'pagerduty',
    {
      delivery: {
        connectors: {
          oncall: {
            type: 'pagerduty',
            routingKey: 'c'.repeat(32),
            url: pd.url,
            dedupKey: '{{ id }}',
            rateLimit: { max: 500, duration: '1s' },
            retry,
            timeout: '5s',
          },
        },
        routes: allMomentsTo(['oncall']),
        receipts: () => countReceipts(pd.received.map((e) => e.dedup_key)),
      },
      async inject() {
        for (let b = 0; b < p.bursts; b++) {
          pd.injectStatus(503, p.burstSize);
          await sleep(p.gapMs);
          pd.injectStatus(429, p.burstSize);
          await sleep(p.gapMs);
          injected += 2 * p.burstSize;
        }
      },
      figures() {
        const keys = pd.received.map((e) => e.dedup_key);
        return {
          injectedFailures: injected,
          uniqueDedupKeys: new Set(keys).size,
          acceptedEvents: keys.length,
          alertsWithMoreThanOneTrigger: [...pd.alerts.values()].filter((a) => a.triggers > 1).length,
        };
      },
      stop: pd.stop,
    },
    p,
  );
}

/**
 * Google Sheets: bursts of 429 RESOURCE_EXHAUSTED on writes, and writes whose answer is lost after
 * they landed (connection reset, or a 503), into an append sheet and an upsert sheet.
 */
export async function sheetsQuota(p: SinkLoad & { bursts: number; burstSize: number; gapMs: number; lostAnswersPerBurst: number }): Promise<ScenarioResult> {
  const token = 'ya29.chaos-token';
  const sheets = await startSheetsApiServer({ spreadsheets: ['chaos-book'], accessTokens: [token] });
  const modes = { append: { mode: 'append' }, upsert: { mode: 'upsert', key: '{{ id }}' } };
  const connectors = Object.fromEntries(
    Object.entries(modes).map(([m, extra]) => [
      `rows-${m}`,
      {
        type: 'sheets',
        spreadsheetId: 'chaos-book',
        sheet: m,
        columns: { Event: '{{ id }}', Athlete: '{{ data.athleteId }}' },
        accessToken: token,
        rootUrl: sheets.url,
        quotaRetryAfter: '1s',
        writesPerMinute: 600,
        retry,
        ...extra,
      },
    ]),
  );
  /** `<mode>|<event id>` for every row of both sheets (header row skipped). */
  const rows = () =>
    Object.keys(modes).flatMap((m) => {
      if (!sheets.sheets.get('chaos-book')?.sheets.some((s) => s.title === m)) return [];
      const [header = [], ...body] = sheets.values('chaos-book', m);
      const col = header.indexOf('Event');
      return body.map((r) => `${m}|${r[col] ?? ''}`);
    });
  let injected = 0;
  let lostAnswers = 0;
  return runSinkScenario(
    'sheets',
    {
      delivery: {
        connectors,
        routes: allMomentsTo(Object.keys(connectors)),
        receipts: () => countReceipts(rows()),
        expand: (id) => Object.keys(modes).map((m) => `${m}|${id}`),
      },
      async inject() {
        for (let b = 0; b < p.bursts; b++) {
          sheets.injectQuotaExceeded(p.burstSize);
          injected += p.burstSize;
          // The write lands; its answer does not (the retry must not add the rows again).
          sheets.loseAnswerAfterWrite({ as: b % 2 ? '503' : 'reset', pathIncludes: ':append' }, p.lostAnswersPerBurst);
          lostAnswers += p.lostAnswersPerBurst;
          await sleep(p.gapMs);
        }
      },
      figures: () => ({
        injectedQuotaErrors: injected,
        lostAnswers,
        answersLostOnAppend: sheets.requests.filter((r) => r.path.endsWith(':append') && (r.status === 0 || r.status === 503)).length,
        answered429: sheets.requests.filter((r) => r.status === 429).length,
        writeRequests: sheets.requests.filter((r) => r.write).length,
      }),
      stop: sheets.stop,
    },
    p,
  );
}

/** Kinesis: PutRecords answers 200 with some records refused (ProvisionedThroughputExceededException); only those are resent. */
export async function kinesisPartial(p: SinkLoad & { failEvery: number; faultForMs: number }): Promise<ScenarioResult> {
  const kinesalite = await startKinesalite();
  await kinesalite.createStream('chaos', 2);
  const proxy = await startFailingKinesisProxy(kinesalite.endpoint);
  // The stream as read back with the AWS SDK: event id and envelope id of every record.
  let records: { eventId: string; envelopeId: string }[] = [];
  const read = async () => {
    records = (await kinesalite.readAll('chaos')).map((r) => {
      const envelope = JSON.parse(r.data) as { id: string; data: { eventId: string } };
      return { eventId: envelope.data.eventId, envelopeId: envelope.id };
    });
  };
  let reading: Promise<void> | undefined;
  // receipts() is synchronous: the stream is read in the background.
  const reader = setInterval(
    () =>
      (reading ??= read()
        .catch(() => undefined)
        .finally(() => (reading = undefined))),
    250,
  );
  return runSinkScenario(
    'kinesis',
    {
      delivery: {
        connectors: {
          stream: {
            type: 'kinesis',
            stream: 'chaos',
            region: 'us-east-1',
            endpoint: proxy.endpoint,
            credentials: TEST_CREDENTIALS,
            data: { eventId: '{{ id }}' },
            partitionKey: '{{ data.athleteId }}',
            retry,
            timeout: '5s',
          },
        },
        routes: allMomentsTo(['stream']),
        receipts: () => countReceipts(records.map((r) => r.eventId)),
      },
      async inject() {
        let n = 0;
        proxy.setRule(() => (++n % p.failEvery === 0 ? 'ProvisionedThroughputExceededException' : undefined));
        await sleep(p.faultForMs);
        proxy.setRule(undefined);
      },
      async figures() {
        await reading;
        await read();
        return {
          refusedRecords: proxy.failed,
          putRecordsCalls: proxy.calls,
          streamRecords: records.length,
          uniqueEnvelopeIds: new Set(records.map((r) => r.envelopeId)).size,
        };
      },
      async stop() {
        clearInterval(reader);
        await proxy.stop();
        await kinesalite.stop();
      },
    },
    p,
  );
}
