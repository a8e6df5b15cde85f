/**
 * Chaos 8: SIGHUP reload while moments flow. The config swaps mid-stream: the first connector's
 * settings change (new URL path, lower concurrency), a second route and connector are added. Every
 * event must reach the connectors whose routes matched it when it was routed: all of them the
 * first connector, once; the second one, every event from the first it received on (routing is in
 * order, so the events routed after the swap are a suffix of the published ones).
 */
import { sleep } from '../../bench/lib/measure.js';
import { startChaosRig, type DeliveryTargets } from './chaos-rig.js';
import { tallyReceipts, type ChaosSink } from './chaos-sink.js';
import type { ScenarioResult } from './scenarios.js';

const webhook = (url: string, idTemplate: string, concurrency: number) => ({
  type: 'webhook',
  url,
  allowPrivateNetworks: true,
  body: { id: idTemplate },
  concurrency,
  retry: { backoff: '100ms', maxBackoff: '1s', maxAttempts: 200 },
  timeout: '5s',
});

const allMoments = { name: 'all-moments', match: { kind: 'moment' }, to: ['hook'] };

function before(sink: ChaosSink): DeliveryTargets {
  return { connectors: { hook: webhook(sink.url, '{{ id }}', 20) }, routes: [allMoments], receipts: () => sink.receipts };
}

/** The second connector's receipts are keyed `copy|<event id>` at the same sink. */
function after(sink: ChaosSink): DeliveryTargets {
  return {
    connectors: { hook: webhook(`${sink.url}-v2`, '{{ id }}', 10), copy: webhook(`${sink.url}-copy`, 'copy|{{ id }}', 20) },
    routes: [
      { ...allMoments, continue: true },
      { name: 'copy-moments', match: { kind: 'moment' }, to: ['copy'] },
    ],
    receipts: () => sink.receipts,
  };
}

export async function reloadUnderLoad(p: { events: number; perSecond: number; reloadAfterMs: number; settleMs: number }): Promise<ScenarioResult> {
  const rig = await startChaosRig('reload', { delivery: before, sinkDelayMs: 20 });
  try {
    await rig.startDaemon();
    const load = rig.publish(p.events, p.perSecond);
    await sleep(p.reloadAfterMs);
    const inFlightAtFault = (await rig.depth()).active!;
    const publishedAtSighup = rig.ids.length;
    await rig.reload(after(rig.sink));
    const publishedAtApplied = rig.ids.length;
    await load;
    const tally = await rig.settle(p.settleMs);
    // A delivery the new connector refused (e.g. rendered for the old URL) is a dead letter: name it as such, not only as lost.
    const deadLetters = (await rig.depth()).failed;
    const copyKeys = rig.ids.map((id) => `copy|${id}`);
    const firstCopied = copyKeys.findIndex((k) => rig.sink.receipts.has(k));
    const copy = tallyReceipts(rig.sink.receipts, firstCopied < 0 ? copyKeys : copyKeys.slice(firstCopied));
    return {
      ...tally,
      deadLetters,
      inFlightAtFault,
      publishedAtSighup,
      publishedAtApplied,
      // Index of the first event the new route sent to the new connector.
      firstCopied,
      copy,
      viaOldSettings: rig.sink.paths.get('/hook') ?? 0,
      viaNewSettings: rig.sink.paths.get('/hook-v2') ?? 0,
    };
  } finally {
    await rig.stop();
  }
}
