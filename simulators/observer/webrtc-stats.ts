/**
 * Plausible WebRTC stats for simulated clients: a bounded random walk per client around values
 * typical of a healthy video call (RTT 30–150 ms, jitter 2–20 ms, loss under 2 %, 0.3–2.5 Mbit/s),
 * with an occasional bad patch so that alert rules have something to fire on.
 */

/** Small seeded PRNG (mulberry32): the same seed gives the same demo. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClientStats {
  packetLoss: number;
  packetsLost: number;
  packetsReceived: number;
  rttMs: number;
  jitterMs: number;
  inboundBitrate: number;
  outboundBitrate: number;
  availableOutgoingBitrate: number;
  framesPerSecond: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits: number) => Number(v.toFixed(digits));

/** The evolving network condition of one simulated client. */
export class ClientStatsWalk {
  private rtt: number;
  private jitter: number;
  private loss: number;
  private bitrate: number;
  private packetsReceived = 0;
  private packetsLost = 0;
  private badPatch = 0;

  constructor(private readonly random: () => number) {
    this.rtt = 30 + random() * 90;
    this.jitter = 2 + random() * 8;
    this.loss = random() * 0.01;
    this.bitrate = 300_000 + random() * 2_000_000;
  }

  /** Advances the walk by `elapsedMs` and returns the snapshot at the end of it. */
  next(elapsedMs: number): ClientStats {
    const r = this.random;
    if (this.badPatch === 0 && r() < 0.03) this.badPatch = 3 + Math.floor(r() * 5);
    const bad = this.badPatch > 0;
    if (bad) this.badPatch -= 1;
    this.rtt = clamp(this.rtt + (r() - 0.5) * 20 + (bad ? 40 : 0), 15, bad ? 600 : 150);
    this.jitter = clamp(this.jitter + (r() - 0.5) * 3 + (bad ? 8 : 0), 1, bad ? 80 : 20);
    this.loss = clamp(this.loss + (r() - 0.5) * 0.004 + (bad ? 0.03 : -0.002), 0, bad ? 0.25 : 0.02);
    this.bitrate = clamp(this.bitrate * (1 + (r() - 0.5) * 0.15) * (bad ? 0.7 : 1.02), 80_000, 2_500_000);
    // Video at ~1 Mbit/s is roughly 100 packets/s; audio adds 50.
    const expected = Math.round((this.bitrate / 10_000 + 50) * (elapsedMs / 1000));
    const lost = Math.round(expected * this.loss);
    this.packetsReceived += expected - lost;
    this.packetsLost += lost;
    return {
      packetLoss: round(this.loss, 4),
      packetsLost: this.packetsLost,
      packetsReceived: this.packetsReceived,
      rttMs: round(this.rtt, 1),
      jitterMs: round(this.jitter, 1),
      inboundBitrate: Math.round(this.bitrate),
      outboundBitrate: Math.round(this.bitrate * (0.8 + r() * 0.3)),
      availableOutgoingBitrate: Math.round(this.bitrate * (1.2 + r() * 0.5)),
      framesPerSecond: round(clamp(30 - this.loss * 100 - (bad ? 10 : 0) + (r() - 0.5) * 2, 5, 30), 1),
    };
  }
}
