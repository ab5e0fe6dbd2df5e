import * as t from 'io-ts';
import type { AckMessage, NoneMessage } from '../messages';
import { messageCodec } from './message-codec';

// docs/protocol.md#ack-and-none: ACK (1) and NONE (0) are the type alone; the other 126 bytes are
// zero when sent and ignored when received.

export const AckFrame = messageCodec<AckMessage>({
  type: 'ack',
  value: t.type({ type: t.literal('ack') }, 'ACK'),
  read: () => t.success({ type: 'ack' }),
  write: () => undefined,
});

/** NONE is never sent by a correct peer; decoding it lets the caller name it when refusing it. */
export const NoneFrame = messageCodec<NoneMessage>({
  type: 'none',
  value: t.type({ type: t.literal('none') }, 'NONE'),
  read: () => t.success({ type: 'none' }),
  write: () => undefined,
});
