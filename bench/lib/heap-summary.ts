/**
 * Reads a V8 `.heapsnapshot` and counts objects and their own (shallow) bytes per constructor
 * (strings, closures, arrays and code by node type). Comparing two summaries taken at different
 * points of a run shows which kind of object accumulates: a leak grows a bucket with the number of
 * events; a bounded cache or V8 bookkeeping does not.
 */
import { readFileSync } from 'node:fs';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] }; node_count: number };
  nodes: number[];
  strings: string[];
}

export interface HeapBucket {
  name: string;
  count: number;
  selfBytes: number;
}

/** Buckets keyed by `type:name` for objects (`object:Map`), by type for the rest (`string`). */
export function summarizeHeapSnapshot(file: string): Map<string, HeapBucket> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, HeapBucket>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    const name = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${snap.strings[snap.nodes[i + nameAt]!]}` : type;
    let b = out.get(name);
    if (!b) out.set(name, (b = { name, count: 0, selfBytes: 0 }));
    b.count++;
    b.selfBytes += snap.nodes[i + sizeAt]!;
  }
  return out;
}

/** The buckets that grew most between two summaries, by bytes. */
export function heapGrowth(
  before: Map<string, HeapBucket>,
  after: Map<string, HeapBucket>,
  top = 25,
): { name: string; countDelta: number; bytesDelta: number; countAfter: number }[] {
  return [...after.values()]
    .map((b) => {
      const a = before.get(b.name);
      return { name: b.name, countDelta: b.count - (a?.count ?? 0), bytesDelta: b.selfBytes - (a?.selfBytes ?? 0), countAfter: b.count };
    })
    .filter((g) => g.bytesDelta !== 0 || g.countDelta !== 0)
    .sort((x, y) => y.bytesDelta - x.bytesDelta)
    .slice(0, top);
}

/** The largest buckets of one summary. */
export function heapTop(summary: Map<string, HeapBucket>, top = 15): HeapBucket[] {
  return [...summary.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, top);
}
