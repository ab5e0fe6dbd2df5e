import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { MemifName } from '../brands';
import type { ConnectedMessage, ConnectMessage } from '../messages';
import { messageCodec } from './message-codec';

// CONNECT / CONNECTED (docs/protocol.md#connect-and-connected): if_name[32] @2, the sender's
// interface name.

export const ConnectFrame = messageCodec<ConnectMessage>({
  type: 'connect',
  value: t.type({ type: t.literal('connect'), interfaceName: MemifName }, 'CONNECT'),
  read: (f) =>
    pipe(
      f.string('if_name', 2, 32, MemifName),
      E.map((interfaceName) => ({ type: 'connect' as const, interfaceName })),
    ),
  write: (frame, m) => frame.cString(2, 32, m.interfaceName),
});

export const ConnectedFrame = messageCodec<ConnectedMessage>({
  type: 'connected',
  value: t.type({ type: t.literal('connected'), interfaceName: MemifName }, 'CONNECTED'),
  read: (f) =>
    pipe(
      f.string('if_name', 2, 32, MemifName),
      E.map((interfaceName) => ({ type: 'connected' as const, interfaceName })),
    ),
  write: (frame, m) => frame.cString(2, 32, m.interfaceName),
});
