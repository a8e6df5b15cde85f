import type { RouteExplanation } from './route-explainer.js';

/**
 * Human-readable `moments-bridge route` output: one block per route, matched or why not, with
 * the rendered payloads indented under the routes that matched.
 */
export function formatExplanation(x: RouteExplanation): string {
  const lines: string[] = [];
  lines.push(`event ${x.event.id} (source ${x.event.source}, kind ${x.event.kind}) at ${x.at}`);
  for (const r of x.routes) {
    const mark = r.status === 'matched' ? '✓' : r.status === 'not-reached' ? '·' : '✗';
    let head = `${mark} routes[${r.index}] ${r.route}: ${r.status}`;
    if (r.status === 'matched' && r.continue) head += ' (continue)';
    if (r.status === 'not-reached') head += r.wouldMatch ? ' (would match)' : ' (would not match)';
    lines.push(head);
    if (r.reason && r.status !== 'matched') lines.push(`    ${r.reason}`);
    if (r.throttleKey !== undefined) lines.push(`    throttle key: ${JSON.stringify(r.throttleKey)} (at most one delivery per key per window)`);
    if (r.dedupeKey !== undefined) lines.push(`    dedupe key: ${JSON.stringify(r.dedupeKey)}`);
    if (r.groupKey !== undefined)
      lines.push(`    grouped by ${JSON.stringify(r.groupKey)}: delivered later as a digest; payload shown for a digest of this one event`);
    for (const d of r.deliveries) {
      if (d.error) {
        lines.push(`    → ${d.connector}: RENDER ERROR ${d.error}`);
        continue;
      }
      const body = JSON.stringify(d.payload, null, 2) ?? 'undefined';
      lines.push(`    → ${d.connector}: ${body.split('\n').join('\n      ')}`);
    }
  }
  const n = x.deliveries.length;
  lines.push(n === 0 ? 'no deliveries: no route matched' : `${n} deliver${n === 1 ? 'y' : 'ies'}`);
  return lines.join('\n');
}
