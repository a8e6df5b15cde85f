import { eventId, type BridgeEvent } from '../../core/event.js';
import { counter } from '../../core/metrics.js';
import type { SourceContext } from '../source.js';
import { frameKey, type FrameSpec } from './frame-spec.js';
import type { ObserverClientLike, ObserverRow } from './observer-api.js';
import { toIsoTime } from './observer-time.js';
import { normaliseOngoingCalls, type OngoingCall } from './ongoing-calls.js';
import { fencedCommand } from '../source-lease.js';

const metrics = {
  invalidCalls: counter('mb_observer_invalid_calls_total', 'Entries of fetchOngoingCalls without a usable call id (quarantined)', ['source']),
};

export type FollowedKind = 'callSnapshots' | 'clientSnapshots';

/** What call discovery needs from the source that owns the connection and the frames. */
export interface CallDiscoveryHost {
  ctx: SourceContext;
  /** Redis hash of the calls seen ongoing (`<prefix>source:<name>:calls`), by call id. */
  callsKey: string;
  client(): ObserverClientLike | undefined;
  /** Whether `generation` is still the live connection. */
  isCurrent(generation: number): boolean;
  openFrame(generation: number, spec: FrameSpec): Promise<void>;
  closeFrame(key: string): Promise<void>;
  /** Frames opened by discovery, by key. */
  discoveredFrames(): Array<[string, FrameSpec]>;
  /** Whether this frame is open, or was followed live on this connection until it closed (then forgotten). */
  followedLive(key: string): boolean;
  enqueueRow(spec: FrameSpec, row: ObserverRow): void;
  /** Hands an event to the pipeline; false when refused (the next poll emits it again). */
  emit(event: BridgeEvent): Promise<boolean>;
  requestFailed(method: string, err: unknown): void;
}

/**
 * Follows `fetchOngoingCalls`: emits `observer.call.started` / `observer.call.ended` (the calls
 * seen are kept in Redis and changed only after the event was taken, so a refused event is
 * emitted again by the next poll), opens the frames of new calls and closes those of ended ones.
 */
export class CallDiscovery {
  private polling = false;

  constructor(private readonly host: CallDiscoveryHost) {}

  async poll(generation: number, kinds: ReadonlyArray<FollowedKind>): Promise<void> {
    const client = this.host.client();
    if (this.polling || !client || !this.host.isCurrent(generation)) return;
    this.polling = true;
    try {
      let calls: OngoingCall[];
      try {
        const result = normaliseOngoingCalls(await client.fetchOngoingCalls());
        calls = result.calls;
        for (const bad of result.skipped) {
          metrics.invalidCalls.inc({ source: this.host.ctx.name });
          this.host.ctx.logger.warn(`observer: quarantined an entry of fetchOngoingCalls: ${bad.reason}`);
          await this.host.ctx
            .quarantine({ kind: 'observer.call', reason: bad.reason, raw: bad.raw })
            .catch((err) => this.host.ctx.logger.error({ err }, 'observer: quarantine failed'));
        }
      } catch (err) {
        this.host.requestFailed('fetchOngoingCalls', err);
        return;
      }
      if (!this.host.isCurrent(generation)) return;
      const current = new Map(calls.map((c) => [c.callId, c]));
      const callsKey = this.host.callsKey;
      const known = await this.host.ctx.redis.hgetall(callsKey);

      for (const call of calls) {
        if (!(call.callId in known)) {
          const event = {
            id: eventId(this.host.ctx.name, 'observer.call.started', call.callId),
            source: this.host.ctx.name,
            kind: 'observer.call.started',
            time: toIsoTime(call.startedAt) ?? new Date().toISOString(),
            data: call,
          };
          if (!(await this.host.emit(event))) continue; // retried on the next poll
          await fencedCommand(this.host.ctx.redis, this.host.ctx.lease, 'HSET', callsKey, [call.callId, JSON.stringify(call)], 'observer known call');
        }
        if (kinds.includes('callSnapshots')) void this.host.openFrame(generation, { kind: 'callSnapshots', callId: call.callId, discovered: true });
        if (kinds.includes('clientSnapshots')) {
          for (const c of call.clients)
            void this.host.openFrame(generation, { kind: 'clientSnapshots', callId: call.callId, clientId: c.clientId, discovered: true });
        }
      }

      for (const [key, spec] of this.host.discoveredFrames()) {
        const call = current.get(spec.callId!);
        const gone = !call || (spec.kind === 'clientSnapshots' && !call.clients.some((c) => c.clientId === spec.clientId));
        if (gone) await this.host.closeFrame(key);
      }

      for (const [callId, json] of Object.entries(known)) {
        if (current.has(callId)) continue;
        let last: Record<string, unknown> = { callId };
        try {
          last = JSON.parse(json) as Record<string, unknown>;
        } catch {
          // keep the bare id
        }
        await this.drainEndedCall(generation, last, kinds);
        const now = new Date().toISOString();
        const event = {
          id: eventId(this.host.ctx.name, 'observer.call.ended', callId),
          source: this.host.ctx.name,
          kind: 'observer.call.ended',
          time: now,
          data: { ...last, endedAt: now },
        };
        if (await this.host.emit(event)) await fencedCommand(this.host.ctx.redis, this.host.ctx.lease, 'HDEL', callsKey, [callId], 'observer ended call');
      }
    } catch (err) {
      this.host.ctx.logger.error({ err }, 'observer: call discovery failed; retrying on the next poll');
    } finally {
      this.polling = false;
    }
  }

  /**
   * Reads once more the frames of a call that ended while they were not followed (the bridge was
   * away), so rows published between a drop and the call's end are not lost with the call: the
   * service keeps an ended call's rows (findCalls lists ended calls); row ids already seen are skipped.
   */
  private async drainEndedCall(generation: number, last: Record<string, unknown>, kinds: ReadonlyArray<FollowedKind>): Promise<void> {
    const client = this.host.client();
    const callId = String(last.callId);
    if (!client || !this.host.isCurrent(generation)) return;
    const specs: FrameSpec[] = [];
    if (kinds.includes('callSnapshots')) specs.push({ kind: 'callSnapshots', callId, discovered: true });
    if (kinds.includes('clientSnapshots') && Array.isArray(last.clients)) {
      for (const c of last.clients as Array<{ clientId?: unknown }>)
        if (c && typeof c.clientId === 'string') specs.push({ kind: 'clientSnapshots', callId, clientId: c.clientId, discovered: true });
    }
    for (const spec of specs) {
      if (this.host.followedLive(frameKey(spec))) continue;
      try {
        const frame =
          spec.kind === 'callSnapshots'
            ? await client.createCallSnapshotsFrame(callId)
            : await client.createClientSnapshotsFrame({ callId, clientId: spec.clientId! });
        frame.on('newrow', (row) => this.host.enqueueRow(spec, row));
        frame.on('error', () => undefined);
        try {
          if (frame[Symbol.iterator]) for (const row of frame as Iterable<ObserverRow>) this.host.enqueueRow(spec, row);
          await frame.update();
        } finally {
          await Promise.resolve(frame.close()).catch(() => undefined);
        }
      } catch (err) {
        // The service may have forgotten the call already: nothing more can be read.
        this.host.requestFailed('updateFrame', err);
      }
    }
  }
}
