import type { SourceProgress } from './source.js';

/**
 * Why a source counts as stuck, or undefined: items are waiting and nothing was accepted from it
 * for longer than `stallAfterMs` (counted from its last progress, or from when the oldest item
 * began waiting if it never made any). An idle source (nothing pending) is never stuck.
 */
export function stallReason(name: string, p: SourceProgress, nowMs: number, stallAfterMs: number): string | undefined {
  if (p.pending <= 0) return undefined;
  const from = Math.max(p.lastProgressAt ?? 0, p.oldestPendingSince ?? 0);
  if (from === 0) return undefined;
  const stuckMs = nowMs - from;
  if (stuckMs <= stallAfterMs) return undefined;
  return `source ${name}: no progress for ${Math.round(stuckMs / 1000)} s with ${p.pending} item${p.pending === 1 ? '' : 's'} waiting`;
}
