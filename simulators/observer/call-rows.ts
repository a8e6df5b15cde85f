import { streamKey, type Row } from './session.js';
import type { SimStore } from './sim-store.js';
import { ClientStatsWalk } from './webrtc-stats.js';

/** What `pushRow` appends: a call or client snapshot row (stats generated), or a database row. */
export interface PushRowOptions {
  kind: 'callSnapshots' | 'clientSnapshots' | 'database';
  callId?: string;
  clientId?: string;
  resource?: string;
  /** Fields that override the generated ones. */
  row?: Row;
}

export interface CallRowsOptions {
  /** Rows kept per stream (oldest dropped). */
  maxRowsPerStream: number;
  /** The snapshot interval, ms (0: on demand); a client's stats walk advances by it. */
  snapshotEvery: number;
}

/**
 * The rows of the store's streams: appends one (ids and stats filled in) or a snapshot round, and
 * hands each new row to `publish` so the simulator can push it to the frames watching its stream.
 */
export class CallRows {
  private lastSnapshotAt = Date.now();

  constructor(
    private readonly store: SimStore,
    private readonly random: () => number,
    private readonly options: CallRowsOptions,
    private readonly publish: (stream: string, row: Row) => void,
  ) {}

  /** One snapshot round for `calls`: a row per client, then the call row averaging them. */
  snapshot(calls: Iterable<{ callId: string; clients: Array<{ clientId: string }> }>): Row[] {
    const now = Date.now();
    const elapsed = Math.max(1, now - this.lastSnapshotAt);
    this.lastSnapshotAt = now;
    const rows: Row[] = [];
    for (const call of calls) {
      const clientRows = call.clients.map((c) => this.append({ kind: 'clientSnapshots', callId: call.callId, clientId: c.clientId, row: { timestamp: now } }));
      const avg = (field: string) => (clientRows.length ? clientRows.reduce((s, r) => s + Number(r[field] ?? 0), 0) / clientRows.length : 0);
      rows.push(
        this.append({
          kind: 'callSnapshots',
          callId: call.callId,
          row: {
            timestamp: now,
            clientsCount: call.clients.length,
            avgRttMs: Number(avg('rttMs').toFixed(1)),
            avgJitterMs: Number(avg('jitterMs').toFixed(1)),
            avgPacketLoss: Number(avg('packetLoss').toFixed(4)),
            totalBitrate: clientRows.reduce((s, r) => s + Number(r.inboundBitrate ?? 0) + Number(r.outboundBitrate ?? 0), 0),
            sampleIntervalMs: elapsed,
          },
        }),
        ...clientRows,
      );
    }
    return rows;
  }

  append(options: PushRowOptions): Row {
    const seq = this.store.nextSeq();
    let stream: string;
    let row: Row;
    if (options.kind === 'database') {
      if (!options.resource) throw new Error('pushRow kind database needs "resource"');
      stream = streamKey('database', options.resource);
      row = { id: `${options.resource}-${seq}`, seq, timestamp: Date.now(), ...options.row };
    } else {
      const call = this.store.calls.get(options.callId ?? '') ?? this.store.endedCalls.find((c) => c.callId === options.callId);
      if (!call) throw new Error(`unknown call "${options.callId}"`);
      if (options.kind === 'callSnapshots') {
        stream = streamKey('callSnapshots', call.callId);
        row = {
          id: `${call.callId}-s${seq}`,
          seq,
          callId: call.callId,
          roomId: call.roomId,
          timestamp: Date.now(),
          clientsCount: call.clients.length,
          ...options.row,
        };
      } else {
        const client = call.clients.find((c) => c.clientId === options.clientId);
        if (!client) throw new Error(`unknown client "${options.clientId}" in call ${call.callId}`);
        stream = streamKey('clientSnapshots', call.callId, client.clientId);
        let walk = this.store.walks.get(stream);
        if (!walk) this.store.walks.set(stream, (walk = new ClientStatsWalk(this.random)));
        row = {
          id: `${client.clientId}-s${seq}`,
          seq,
          callId: call.callId,
          clientId: client.clientId,
          userId: client.userId,
          timestamp: Date.now(),
          ...walk.next(this.options.snapshotEvery || 1000),
          ...options.row,
        };
      }
    }
    const rows = this.store.streams.get(stream) ?? [];
    rows.push(row);
    if (rows.length > this.options.maxRowsPerStream) rows.shift();
    this.store.streams.set(stream, rows);
    this.publish(stream, row);
    return row;
  }
}
