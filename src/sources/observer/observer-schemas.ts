import { z } from 'zod';

/**
 * Rows and query results the Observer service returns. Objects are `loose`: the service may add
 * fields at any time and the bridge forwards them untouched; only the fields the bridge relies on
 * (ids, timestamps) and the stats it documents are checked.
 */

const timestamp = z.number().int().nonnegative().describe('Epoch milliseconds when the row was sampled.');
const nonNegative = z.number().nonnegative();

/** One snapshot of a whole call. */
export const callSnapshotRow = z
  .object({
    id: z.string().min(1).describe('Row id, unique within the call.'),
    callId: z.string().min(1).describe('Call the snapshot belongs to.'),
    roomId: z.string().optional().describe('Room the call runs in.'),
    timestamp,
    clientsCount: z.number().int().nonnegative().optional().describe('Clients in the call at sampling time.'),
    avgRttMs: nonNegative.optional().describe('Mean round-trip time over all clients, ms.'),
    avgJitterMs: nonNegative.optional().describe('Mean jitter over all clients, ms.'),
    avgPacketLoss: z.number().min(0).max(1).optional().describe('Mean packet-loss fraction (0–1).'),
    totalBitrate: nonNegative.optional().describe('Sum of all clients’ inbound and outbound bitrate, bit/s.'),
  })
  .loose();
export type CallSnapshotRow = z.output<typeof callSnapshotRow>;

/** One snapshot of one client's WebRTC stats (the fields RTCStatsReport gives, aggregated). */
export const clientSnapshotRow = z
  .object({
    id: z.string().min(1).describe('Row id, unique within the client.'),
    callId: z.string().min(1),
    clientId: z.string().min(1),
    userId: z.string().optional(),
    timestamp,
    packetLoss: z.number().min(0).max(1).optional().describe('Fraction of inbound packets lost since the previous snapshot (0–1).'),
    packetsLost: z.number().int().nonnegative().optional().describe('Cumulative inbound packets lost (RTCInboundRtpStreamStats.packetsLost).'),
    packetsReceived: z.number().int().nonnegative().optional().describe('Cumulative inbound packets received.'),
    rttMs: nonNegative.optional().describe('Current round-trip time, ms (candidate-pair currentRoundTripTime × 1000).'),
    jitterMs: nonNegative.optional().describe('Inbound jitter, ms.'),
    inboundBitrate: nonNegative.optional().describe('Inbound bitrate, bit/s.'),
    outboundBitrate: nonNegative.optional().describe('Outbound bitrate, bit/s.'),
    availableOutgoingBitrate: nonNegative.optional().describe('Bandwidth estimate, bit/s.'),
    framesPerSecond: nonNegative.optional().describe('Decoded video frames per second.'),
  })
  .loose();
export type ClientSnapshotRow = z.output<typeof clientSnapshotRow>;

/** A row of a database resource: any record; an `id` or a `timestamp` makes it identifiable. */
export const databaseRow = z
  .object({
    id: z.union([z.string().min(1), z.number()]).optional().describe('Row id within the resource.'),
    timestamp: timestamp.optional(),
  })
  .loose()
  .refine((row) => row.id !== undefined || row.timestamp !== undefined, {
    message: 'a database row needs an "id" or a "timestamp" so it can be deduplicated',
  });
export type DatabaseRow = z.output<typeof databaseRow>;

export const ongoingCall = z
  .object({
    callId: z.string().min(1),
    roomId: z.string().optional(),
    startedAt: timestamp.optional().describe('When the call started, epoch ms.'),
    clients: z
      .array(z.object({ clientId: z.string().min(1), userId: z.string().optional(), joinedAt: timestamp.optional() }).loose())
      .default([])
      .describe('Clients currently in the call.'),
  })
  .loose();
export type OngoingCall = z.output<typeof ongoingCall>;

export const ongoingCallsResult = z.array(ongoingCall);

export const summaryStats = z.record(z.string(), z.unknown());
export type SummaryStats = z.output<typeof summaryStats>;
