import { errorMessage } from '../core/errors.js';
import type { Readiness } from '../http/ops-server.js';
import type { DeliveryQueues } from '../queue/delivery-queues.js';
import { stallReason } from '../sources/stall-check.js';
import type { DaemonRedis } from './daemon-redis.js';
import type { RunningSources } from './running-sources.js';
import { withTimeout } from './with-timeout.js';

/** What `/readyz` looks at. */
export interface ReadinessInputs {
  redis: DaemonRedis | undefined;
  sources: RunningSources | undefined;
  queues: DeliveryQueues | undefined;
  /** A stopping daemon is not ready, whatever its workers say. */
  stopping: boolean;
  /** A source with items waiting and no progress for this long is stalled (`server.stallAfter`). */
  stallAfterMs: number;
}

/** Redis answers PING within 1 s, every source read here is connected and not stalled (a stand-by one is fine), every connector's worker runs. */
export async function checkReadiness(inputs: ReadinessInputs): Promise<Readiness> {
  const { redis, sources, queues } = inputs;
  const checks: Readiness['checks'] = {};
  const client = redis?.client;
  if (!client || client.status !== 'ready') {
    checks.redis = { ok: false, detail: `connection ${client?.status ?? 'not started'}` };
  } else {
    try {
      await withTimeout(client.ping(), 1_000, 'PING took longer than 1 s');
      checks.redis = { ok: true };
    } catch (err) {
      checks.redis = { ok: false, detail: errorMessage(err) };
    }
  }
  const now = Date.now();
  const roles = sources?.roles() ?? {};
  for (const [name, source] of sources?.entries() ?? []) {
    const state = source.state();
    const progress = sources?.progressOf(name, source);
    const stalled = progress && stallReason(name, progress, now, inputs.stallAfterMs);
    const reason = stalled || (state.status === 'connected' ? undefined : `source ${name}: ${state.status}`);
    const detail = { ...state, ...(progress ? { progress } : {}), ...roles[name] };
    checks[`source:${name}`] = { ok: reason === undefined, ...(reason ? { reason } : {}), detail };
  }
  // Standing by for the lease is healthy: another replica reads the source.
  for (const [name, role] of Object.entries(roles)) {
    if (role.role === 'standby') checks[`source:${name}`] = { ok: true, detail: { status: 'standby', ...role } };
  }
  const workers = queues?.workerStates() ?? {};
  const stopped = Object.entries(workers)
    .filter(([, running]) => !running)
    .map(([c]) => c);
  checks.workers = {
    ok: queues !== undefined && !inputs.stopping && stopped.length === 0,
    detail: stopped.length ? { stopped } : { running: Object.keys(workers).length },
  };
  const reasons = Object.entries(checks).flatMap(([name, c]) => (c.ok ? [] : [c.reason ?? `${name}: not ready`]));
  return { ready: reasons.length === 0, ...(reasons.length ? { reasons } : {}), checks };
}
