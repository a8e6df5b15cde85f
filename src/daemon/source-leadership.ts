import type { Redis } from 'ioredis';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { counter } from '../core/metrics.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { SourceLease } from '../sources/source-lease.js';
import { leaseHolderId, RedisLease } from './redis-lease.js';
import { withTimeout } from './with-timeout.js';

const metrics = {
  acquired: counter('mb_source_lease_acquired_total', 'Times this replica took the lease of a source and started reading it.', ['source']),
  lost: counter(
    'mb_source_lease_lost_total',
    "Times this replica lost a source's lease while reading it, by reason: `taken` (renewal found another holder), `expired` (Redis unreachable for the whole lease), `fenced` (a progress write was refused).",
    ['source', 'reason'],
  ),
};

/** How replicas share the reading of the sources (config `leadership`). */
export interface LeadershipSettings {
  /** `leader`: one replica at a time reads each source; `every-replica`: all do (hot-hot). */
  readers: 'leader' | 'every-replica';
  /** How long a lease lasts without renewal, ms. */
  leaseTtlMs: number;
  /** How often the leader renews and a stand-by tries to take the lease, ms (less than leaseTtlMs). */
  renewEveryMs: number;
  /** This replica's name in lease values, /readyz and logs. */
  replicaId: string;
}

/** What /readyz, /metrics and logs say about who reads a source. */
export interface SourceRole {
  role: 'leader' | 'standby' | 'every-replica';
  /** This replica. */
  replica: string;
  /** The replica that leads, as last seen (absent while no replica holds the lease). */
  leader?: string;
}

export interface SourceLeadershipOptions {
  name: string;
  redis: RedisClient | Redis;
  /** The source's stateKeyBase: the lease lives beside its cursor (one Cluster slot). */
  keyBase: string;
  settings: LeadershipSettings;
  logger: Logger;
  /** Starts reading the source under `lease` (its progress writes check it). A throw releases the lease. */
  lead(lease: SourceLease): Promise<void>;
  /** Stops reading the source: the lease was lost or is about to be released. */
  standDown(): Promise<void>;
}

type StandDownReason = 'taken' | 'expired' | 'fenced' | 'stopped' | 'failed to start';

/**
 * One source's leadership on this replica: stands by, polling for the lease every `renewEveryMs`;
 * once it holds it, starts the source and renews it (compare-and-extend) at the same pace; stops
 * the source when a renewal finds another holder, when Redis could not be reached for a whole
 * lease (by then it has expired there and another replica may lead), or when a fenced write was
 * refused. `stop` stops the source and then releases the lease, so a stand-by takes over at its
 * next poll. Lease checks, start and stop run one at a time, in order.
 */
export class SourceLeadership {
  private readonly lease: RedisLease;
  private readonly log: Logger;
  /** The lease value held while leading. */
  private held: string | undefined;
  /** When the last acquisition or renewal that succeeded was sent (epoch ms). */
  private renewedAt = 0;
  /** The leader's replica id, as last seen. */
  private leader: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: SourceLeadershipOptions) {
    const { settings } = options;
    this.lease = new RedisLease(options.redis, options.keyBase, settings.replicaId, settings.leaseTtlMs);
    this.log = options.logger;
  }

  /** Takes the lease if it is free and starts the source (resolves after that first attempt), then keeps polling. */
  async start(): Promise<void> {
    await this.run(() => this.tick());
    this.schedule();
  }

  /** Stops the source if this replica leads it, then releases the lease. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.run(() => this.standDown('stopped'));
  }

  role(): SourceRole {
    const { replicaId } = this.options.settings;
    if (this.held) return { role: 'leader', replica: replicaId, leader: replicaId };
    return { role: 'standby', replica: replicaId, ...(this.leader ? { leader: this.leader } : {}) };
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.run(() => this.tick()).then(() => this.schedule());
    }, this.options.settings.renewEveryMs);
  }

  /** Runs `step` after the ones before it; a step never breaks the chain. */
  private run(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain
      .then(step)
      .catch((err: unknown) => this.log.error({ err: errorMessage(err) }, `source ${this.options.name}: leadership step failed: ${errorMessage(err)}`));
    return this.chain;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const sentAt = Date.now();
    const { leaseTtlMs, renewEveryMs } = this.options.settings;
    if (this.held) {
      let stillHeld: boolean;
      try {
        // The shared connection queues commands while Redis is away: wait no longer than the lease lasts.
        stillHeld = await withTimeout(this.lease.renew(this.held), Math.max(1, this.renewedAt + leaseTtlMs - Date.now()), 'no answer from Redis');
      } catch (err) {
        // Redis unreachable: the lease is ours until it would have expired there, not longer.
        if (Date.now() - this.renewedAt >= leaseTtlMs) await this.standDown('expired', errorMessage(err));
        return;
      }
      if (stillHeld) this.renewedAt = sentAt;
      else await this.standDown('taken');
      return;
    }
    let result;
    try {
      // A late answer is harmless: a lease taken under this replica's id is taken back at the next poll.
      result = await withTimeout(this.lease.acquire(), renewEveryMs, 'no answer from Redis');
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, `source ${this.options.name}: could not poll the lease`);
      return;
    }
    if (!result.acquired) {
      this.leader = leaseHolderId(result.holder);
      return;
    }
    await this.lead(result.value, sentAt);
  }

  private async lead(value: string, sentAt: number): Promise<void> {
    const { name, settings } = this.options;
    this.held = value;
    this.renewedAt = sentAt;
    this.leader = settings.replicaId;
    metrics.acquired.inc({ source: name });
    this.log.info(
      { replica: settings.replicaId, token: value.split(' ')[0] },
      `source ${name}: this replica (${settings.replicaId}) took the lease and reads the source; other replicas stand by`,
    );
    const lease: SourceLease = {
      key: this.lease.key,
      token: () => value,
      lost: (what) => {
        // Only this term's writes speak for this term; the stand-down runs after the step in progress.
        if (this.held === value) void this.run(() => (this.held === value ? this.standDown('fenced', what) : Promise.resolve()));
      },
    };
    try {
      await this.options.lead(lease);
    } catch (err) {
      await this.standDown('failed to start', errorMessage(err));
    }
  }

  private async standDown(reason: StandDownReason, detail?: string): Promise<void> {
    const value = this.held;
    if (!value) return;
    const { name, settings } = this.options;
    this.held = undefined;
    if (reason === 'taken' || reason === 'expired' || reason === 'fenced') {
      metrics.lost.inc({ source: name, reason });
      this.leader = undefined;
      this.log.warn(
        { replica: settings.replicaId, reason, ...(detail ? { detail } : {}) },
        `source ${name}: this replica lost the source's lease (${reason}${detail ? `: ${detail}` : ''}); it stops reading and stands by`,
      );
    } else if (reason === 'failed to start') {
      this.log.error({ replica: settings.replicaId, err: detail }, `source ${name}: could not start as its leader (${detail}); releasing the lease`);
    }
    await this.options.standDown().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, `source ${name}: did not stop cleanly`));
    // Lost: nothing to release (another replica may hold it). Otherwise hand it over at once.
    if (reason === 'stopped' || reason === 'failed to start') {
      await this.lease.release(value).catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, `source ${name}: could not release the lease`));
      this.leader = undefined;
    }
  }
}
