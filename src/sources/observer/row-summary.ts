import type { EventSummary } from '../../core/event.js';

/**
 * How an Observer row reads for people: the source it came from, and each column the row carries
 * (empty ones left out), under their upstream names. A preview line of its own, since the title
 * names the source rather than what happened.
 */
export function observerRowSummary(event: { id: string; source: string; kind: string; time: string; data: unknown }): EventSummary {
  const data = event.data !== null && typeof event.data === 'object' && !Array.isArray(event.data) ? (event.data as Record<string, unknown>) : {};
  return {
    title: `Observer: ${event.source}`,
    headline: `Observer row from ${event.source}`,
    fields: Object.entries(data)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([label, value]) => ({ label, value })),
    context: [event.kind, event.id, event.time],
  };
}
