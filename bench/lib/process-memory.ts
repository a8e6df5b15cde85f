/**
 * A process's resident memory by mapping kind, from /proc/<pid>/smaps (Linux): `brk` is glibc's
 * main malloc arena (the `[heap]` mapping), `anon` V8's heap pages, thread arenas and large
 * mallocs, `files` code and mapped files. Tells "V8 keeps heap pages" (anon) from "malloc keeps
 * freed memory" (brk) when RSS stays high after a GC.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface RssByMapping {
  brkMiB: number;
  anonMiB: number;
  filesMiB: number;
  threads: number;
}

export function rssByMapping(pid: number): RssByMapping {
  let kind: 'brk' | 'anon' | 'files' = 'anon';
  const kb = { brk: 0, anon: 0, files: 0 };
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1]!;
      kind = name === '[heap]' ? 'brk' : name === '' || name.startsWith('[') ? 'anon' : 'files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kb[kind] += Number(rss[1]);
  }
  const mib = (k: number) => Math.round(k / 102.4) / 10;
  return { brkMiB: mib(kb.brk), anonMiB: mib(kb.anon), filesMiB: mib(kb.files), threads: readdirSync(`/proc/${pid}/task`).length };
}
