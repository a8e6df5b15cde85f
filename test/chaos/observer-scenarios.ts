/**
 * The Observer chaos scenario, parameterised (short in test/chaos/observer-chaos.test.ts, long in
 * test/chaos/long/observer-chaos-long.test.ts): the daemon follows ongoing calls' call snapshots
 * and a database frame while the simulator drops every socket several times and is restarted
 * once (its rows kept), and calls end and start — one of them ends while the service is down.
 * The sink counts every produced row: delivered / lost / duplicated.
 */
import { sleep } from '../../bench/lib/measure.js';
import type { Tally } from './chaos-sink.js';
import { startObserverChaosRig, type ObserverClientKind } from './observer-rig.js';

export interface ObserverChaosParams {
  client: ObserverClientKind;
  /** Calls ongoing at any time. */
  calls: number;
  /** How long the load runs, ms. */
  loadMs: number;
  /** One snapshot round of every call + one database row this often, ms. */
  tickMs: number;
  /** Every socket dropped this often during the load, ms. */
  dropEveryMs: number;
  /** The service is down this long (once, in the middle of the load), ms. */
  restartDownMs: number;
  settleMs: number;
}

export interface ObserverChaosResult extends Tally {
  client: ObserverClientKind;
  rowsPerSecond: number;
  drops: number;
  restarts: number;
  callsEnded: number;
  reconnects: number;
  quarantined: number;
  invalidRows: number;
  pendingDropped: number;
  wallMs: number;
  /** Only when rows were lost: the first ones missing at the sink. */
  lostIds?: string[];
  /** Only when rows were lost: the daemon's last warnings and errors (JSON log lines). */
  daemonWarnings?: string[];
  [k: string]: unknown;
}

export async function observerChaos(p: ObserverChaosParams): Promise<ObserverChaosResult> {
  const t0 = Date.now();
  const rig = await startObserverChaosRig(p.client);
  try {
    for (let i = 0; i < p.calls; i++) rig.sim().startCall({ clients: 2 });
    const daemon = await rig.startDaemon();
    // Load starts once the bridge follows every call (frames of later calls are found by polling).
    await sleepUntil(() => rig.sim().state().frames.length === p.calls + 1, 20_000);

    let drops = 0;
    let callsEnded = 0;
    const churn = () => {
      const victim = rig.sim().state().calls[0];
      if (victim && rig.sim().endCall(victim.callId)) callsEnded++;
      rig.sim().startCall({ clients: 2 });
    };
    const loadStart = Date.now();
    let restarted = false;
    let nextDrop = loadStart + p.dropEveryMs;
    let nextChurn = loadStart + p.loadMs / 4;
    while (Date.now() - loadStart < p.loadMs) {
      rig.produce();
      const now = Date.now();
      if (now >= nextDrop) {
        rig.sim().dropSockets();
        drops++;
        nextDrop = now + p.dropEveryMs;
      }
      if (now >= nextChurn) {
        churn();
        nextChurn = now + p.loadMs / 4;
      }
      if (!restarted && now - loadStart >= p.loadMs / 2) {
        restarted = true;
        // Down in the middle of the load: rows keep coming into the store, and a call ends unseen.
        const down = rig.restartObserver(p.restartDownMs, p.tickMs);
        await sleep(p.restartDownMs / 2);
        churn();
        await down;
        continue;
      }
      await sleep(p.tickMs);
    }
    const loadMs = Date.now() - loadStart;
    const tally = await rig.settle(p.settleMs);
    return {
      client: p.client,
      ...tally,
      rowsPerSecond: Math.round((rig.ids.length * 1000) / loadMs),
      drops,
      restarts: restarted ? 1 : 0,
      callsEnded,
      reconnects: await rig.metric(daemon, 'mb_observer_reconnects_total'),
      quarantined: await rig.metric(daemon, 'mb_events_quarantined_total'),
      invalidRows: await rig.metric(daemon, 'mb_observer_invalid_rows_total'),
      pendingDropped: await rig.metric(daemon, 'mb_observer_pending_dropped_total'),
      wallMs: Date.now() - t0,
      // For a failure to diagnose from the CI log: which rows never arrived, and what the daemon warned about.
      ...(tally.lost > 0
        ? {
            lostIds: rig.ids.filter((id) => !rig.sink.receipts.has(id)).slice(0, 30),
            daemonWarnings: daemon.cli
              .output()
              .split('\n')
              .filter((l) => /"level":(40|50|60)/.test(l))
              .slice(-40)
              .map((l) => l.slice(0, 400)),
          }
        : {}),
    };
  } finally {
    await rig.stop();
  }
}

async function sleepUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the bridge to follow every call');
    await sleep(50);
  }
}
