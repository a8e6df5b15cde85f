import { gauge } from '../../core/metrics.js';
import type { SourceContext } from '../source.js';
import { frameKey, type FrameSpec } from './frame-spec.js';
import type { DataFrameLike, ObserverClientLike, ObserverRow } from './observer-api.js';

const framesOpen = gauge('mb_observer_frames_open', 'Observer data frames currently open', ['source']);

interface OpenFrame {
  spec: FrameSpec;
  frame?: DataFrameLike;
  closing: boolean;
}

export interface ObserverFramesOptions {
  ctx: Pick<SourceContext, 'name' | 'logger'>;
  /** The client of the current connection (undefined while down). */
  client: () => ObserverClientLike | undefined;
  /** The connection generation frames may be opened on (undefined while down). */
  connectedGeneration: () => number | undefined;
  /** Every row a frame yields, in order. */
  enqueueRow: (spec: FrameSpec, row: ObserverRow) => void;
  requestFailed: (method: string, err: unknown) => void;
}

/**
 * The data frames open on the current connection: opening one (reserved first, so a concurrent
 * poll does not open it twice), pulling its rows (`update()`: what was published while the bridge
 * was away), following its `newrow`s until it closes, and re-opening frames whose rows were
 * dropped from memory or may have been lost with Redis (a new frame's update() reads them again).
 */
export class ObserverFrames {
  private readonly options: ObserverFramesOptions;
  private readonly frames = new Map<string, OpenFrame>();
  /** Frames whose rows were dropped from memory over the cap: re-read when the pipeline recovers. */
  private readonly resync = new Map<string, FrameSpec>();
  /** Frames opened and read on the current connection: their rows arrived live until they closed. */
  private readonly followed = new Set<string>();

  constructor(options: ObserverFramesOptions) {
    this.options = options;
  }

  get size(): number {
    return this.frames.size;
  }

  has(key: string): boolean {
    return this.frames.has(key);
  }

  /** Frames waiting to be re-read. */
  get resyncPending(): number {
    return this.resync.size;
  }

  /** Open frames by key (`callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>`, `database:<resource>`). */
  openKeys(): string[] {
    return [...this.frames.entries()].filter(([, e]) => e.frame).map(([k]) => k);
  }

  /** Frames opened for calls found by discovery, by key. */
  discovered(): Array<[string, FrameSpec]> {
    return [...this.frames.entries()].filter(([, e]) => e.spec.discovered).map(([key, e]) => [key, e.spec]);
  }

  /** Followed on this connection until the service closed it: every row came live. */
  followedLive(key: string): boolean {
    return this.frames.has(key) || this.followed.delete(key);
  }

  /** A new connection: every frame is re-opened and re-read now. */
  connected(): void {
    this.resync.clear();
    this.followed.clear();
  }

  /** The connection is gone (or the source stops): the service forgets frames with it. */
  forgetAll(): void {
    for (const entry of this.frames.values()) entry.closing = true;
    this.frames.clear();
    this.updateGauge();
  }

  /** Rows of this frame were dropped from memory; false when it was already marked. */
  markDropped(spec: FrameSpec): boolean {
    const key = frameKey(spec);
    const marked = this.resync.has(key);
    this.resync.set(key, spec);
    return !marked;
  }

  /** Every open frame is to be re-read (Redis may have lost what their rows became). */
  markAllForResync(): void {
    for (const [key, entry] of this.frames) this.resync.set(key, entry.spec);
  }

  async open(generation: number, spec: FrameSpec): Promise<void> {
    const { ctx } = this.options;
    const client = this.options.client();
    const key = frameKey(spec);
    if (!client || generation !== this.options.connectedGeneration() || this.frames.has(key)) return;
    const entry: OpenFrame = { spec, closing: false };
    this.frames.set(key, entry); // reserved now so a concurrent poll does not open it twice
    let frame: DataFrameLike;
    try {
      if (spec.kind === 'callSnapshots') frame = await client.createCallSnapshotsFrame(spec.callId!);
      else if (spec.kind === 'clientSnapshots') frame = await client.createClientSnapshotsFrame({ callId: spec.callId!, clientId: spec.clientId! });
      else frame = await client.createDatabaseFrame(spec.resource!, spec.conditions ?? {}, false);
    } catch (err) {
      if (this.frames.get(key) === entry) this.frames.delete(key);
      this.options.requestFailed('createFrame', err);
      return;
    }
    if (entry.closing || generation !== this.options.connectedGeneration()) {
      await Promise.resolve(frame.close()).catch(() => undefined);
      return;
    }
    entry.frame = frame;
    this.updateGauge();
    ctx.logger.debug({ frame: key }, 'observer: frame opened');
    frame.on('newrow', (row) => this.options.enqueueRow(spec, row));
    frame.on('error', (err) => this.options.requestFailed('frame', err));
    frame.on('close', (reason) => {
      if (this.frames.get(key) !== entry) return;
      this.frames.delete(key);
      this.updateGauge();
      // 'disconnected' is the connection's close, handled (and logged) by the source.
      if (!entry.closing && reason !== 'disconnected') ctx.logger.info({ frame: key, reason: String(reason ?? '') }, 'observer: frame closed by the service');
    });
    try {
      // Rows an SDK may already hold (e.g. from updateOnCreate), then a pull: after a reconnect
      // this is what delivers rows published while the bridge was away.
      if (frame[Symbol.iterator]) for (const row of frame as Iterable<ObserverRow>) this.options.enqueueRow(spec, row);
      else if (frame[Symbol.asyncIterator]) for await (const row of frame as AsyncIterable<ObserverRow>) this.options.enqueueRow(spec, row);
      await frame.update();
      if (generation === this.options.connectedGeneration()) this.followed.add(key);
    } catch (err) {
      this.options.requestFailed('updateFrame', err);
    }
  }

  async close(key: string): Promise<void> {
    const entry = this.frames.get(key);
    if (!entry) return;
    entry.closing = true;
    this.frames.delete(key);
    this.updateGauge();
    this.options.ctx.logger.debug({ frame: key }, 'observer: frame closed');
    await Promise.resolve(entry.frame?.close()).catch(() => undefined);
  }

  /** Re-opens the frames marked for a re-read: a new frame's update() reads them all again. */
  resyncMarked(): void {
    const generation = this.options.connectedGeneration();
    if (generation === undefined) return; // the reconnect re-opens and re-reads every frame
    const specs = [...this.resync.values()];
    this.resync.clear();
    for (const spec of specs) {
      const key = frameKey(spec);
      this.options.ctx.logger.info({ frame: key }, 'observer: re-reading a frame whose rows were dropped from memory');
      void this.close(key).then(() => this.open(generation, spec));
    }
  }

  private updateGauge(): void {
    let open = 0;
    for (const entry of this.frames.values()) if (entry.frame) open += 1;
    framesOpen.set({ source: this.options.ctx.name }, open);
  }
}
