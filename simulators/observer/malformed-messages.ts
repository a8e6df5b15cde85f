export type MalformedKind = 'invalid-json' | 'unknown-type' | 'unknown-frame' | 'invalid-row' | 'binary';

/** The wire bytes of one malformed server message of `kind`, aimed at `frameId` where it names a frame. */
export function malformedMessage(kind: MalformedKind, frameId: string, seq: number): string | Buffer {
  switch (kind) {
    case 'invalid-json':
      return '{"type":"frame","frameId":';
    case 'unknown-type':
      return JSON.stringify({ type: 'surprise', hello: 'world' });
    case 'unknown-frame':
      return JSON.stringify({ type: 'frame', frameId: 'f-unknown', event: 'newrow', row: { id: 'x' } });
    case 'invalid-row':
      // A well-formed message whose row breaks the row schema: the source quarantines it.
      return JSON.stringify({ type: 'frame', frameId, event: 'newrow', row: { id: `bad-${seq}`, callId: 42, timestamp: 'yesterday' } });
    case 'binary':
      return Buffer.from([0xff, 0xfe, 0x00, 0x01]);
  }
}
