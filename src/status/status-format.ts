import type { StatusSnapshot } from './status-snapshot.js';
import { textTable } from '../core/text-table.js';

const rate = (v: number | undefined) => (v === undefined ? '' : ` (${v.toFixed(1)}/s)`);
const seconds = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(v < 10 ? 1 : 0)} s`);

/** `leader`, `standby (leader: <replica>)`, `every-replica`; `-` from a daemon that does not say. */
const role = (r: string | undefined, leader: string | undefined) => (r === undefined ? '-' : r === 'standby' && leader ? `standby (leader: ${leader})` : r);

/** The `status` screen: readiness, then a table of sources and one of connectors. */
export function formatStatus(s: StatusSnapshot): string {
  const lines = [`moments-bridge at ${s.url} — ${s.ready ? 'ready' : 'NOT READY'}, redis ${s.redisUp ? 'up' : 'DOWN'} (${s.at})`];
  for (const reason of s.reasons) lines.push(`  ! ${reason}`);
  lines.push('');
  if (s.sources.length) {
    const rows = s.sources.map((x) => [
      x.name,
      x.state,
      `${x.events}${rate(x.eventsPerSecond)}`,
      seconds(x.cursorLagSeconds),
      seconds(x.oldestPendingSeconds),
      role(x.role, x.leader),
    ]);
    lines.push(textTable([['SOURCE', 'STATE', 'EVENTS', 'CURSOR LAG', 'OLDEST PENDING', 'ROLE'], ...rows]));
  } else lines.push('no sources running');
  lines.push('');
  if (s.connectors.length) {
    const rows = s.connectors.map((c) => [
      c.name,
      c.workerRunning ? 'running' : 'STOPPED',
      `${c.delivered}${rate(c.deliveredPerSecond)}`,
      String(c.depth.waiting + c.depth.prioritized),
      String(c.depth.active),
      String(c.depth.delayed),
      `${c.retries}${rate(c.retriesPerSecond)}`,
      `${c.deadLettered}${rate(c.deadLetteredPerSecond)}`,
      String(c.depth.failed),
    ]);
    lines.push(textTable([['CONNECTOR', 'WORKER', 'DELIVERED', 'WAITING', 'ACTIVE', 'DELAYED', 'RETRIES', 'DEAD-LETTERED', 'DEAD LETTERS KEPT'], ...rows]));
  } else lines.push('no connectors');
  return lines.join('\n');
}
