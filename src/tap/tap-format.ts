import type { TapRecord } from './tap-record.js';

const clock = (iso: string) => iso.slice(11, 23);

/** One line per tap record, for people (`tap --json` prints the records themselves). */
export function formatTapRecord(r: TapRecord): string {
  if (r.type === 'hello') return `${clock(r.at)} daemon ${r.daemon} is streaming`;
  if (r.type === 'event') {
    const title = r.title ? ` "${r.title}"` : '';
    const head = `${clock(r.at)} ${'event'.padEnd(13)} ${r.id} (${r.kind} from ${r.source})${title}`;
    const routes = r.deliveries.map((d) => `${d.route} → ${d.connector}`);
    const delivered = new Set(r.deliveries.map((d) => d.route)).size;
    const held = r.matched > delivered ? [`${r.matched - delivered} matched route(s) held (throttled, deduplicated or grouped)`] : [];
    const aside = (r.setAside ?? []).map((a) => `set aside (${a.reason}${a.route ? `, route ${a.route}` : ''}): ${a.detail}`);
    const decision = [...routes, ...held, ...aside];
    return `${head}: ${r.matched === 0 && !aside.length ? 'unrouted' : decision.join('; ')}`;
  }
  const reason = r.reason ? `: ${r.reason}` : '';
  return `${clock(r.at)} ${r.outcome.padEnd(13)} ${r.route} → ${r.connector}  ${r.eventId}  attempt ${r.attempt}, ${r.latencyMs} ms after the event${reason}`;
}
