/** The kinds of data frame the documented client API can create. */
export type FrameKind = 'callSnapshots' | 'clientSnapshots' | 'database';

/** One frame the source follows. */
export interface FrameSpec {
  kind: FrameKind;
  callId?: string;
  clientId?: string;
  resource?: string;
  conditions?: Record<string, unknown>;
  /** Opened for a call found by ongoingCalls discovery: closed when the call ends. */
  discovered: boolean;
}

/** `callSnapshots:<callId>`, `clientSnapshots:<callId>:<clientId>` or `database:<resource>`. */
export function frameKey(spec: FrameSpec): string {
  if (spec.kind === 'database') return `database:${spec.resource}`;
  if (spec.kind === 'callSnapshots') return `callSnapshots:${spec.callId}`;
  return `clientSnapshots:${spec.callId}:${spec.clientId}`;
}
