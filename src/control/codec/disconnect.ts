import { sequenceS } from 'fp-ts/Apply';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { DisconnectReason, U32 } from '../brands';
import type { DisconnectMessage } from '../messages';
import { fieldValidation, messageCodec } from './message-codec';

// DISCONNECT (docs/protocol.md#disconnect): code (u32) @2, string[96] @6.
export const DisconnectFrame = messageCodec<DisconnectMessage>({
  type: 'disconnect',
  value: t.type(
    { type: t.literal('disconnect'), code: U32, reason: DisconnectReason },
    'DISCONNECT',
  ),
  read: (f) =>
    pipe(
      sequenceS(fieldValidation)({
        code: f.u32('code', 2, U32),
        reason: f.string('string', 6, 96, DisconnectReason),
      }),
      E.map((fields) => ({ type: 'disconnect' as const, ...fields })),
    ),
  write: (frame, m) => frame.u32(2, m.code).cString(6, 96, m.reason),
});
