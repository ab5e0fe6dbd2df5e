import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import type { ControlMessage, MessageTypeName } from '../messages';
import { AckFrame, NoneFrame } from './ack';
import { AddRegionFrame } from './add-region';
import { AddRingFrame } from './add-ring';
import { ConnectedFrame, ConnectFrame } from './connect';
import { DisconnectFrame } from './disconnect';
import { describeValue, toDecodeError, type DecodeError } from './errors';
import { HelloFrame } from './hello';
import { InitFrame } from './init';
import { messageTypeOf, neverThrows, readFrame } from './message-codec';

/** One entry per type; reading is covariant, so one table can hold them all. */
interface AnyMessageFrame {
  readonly validate: t.Validate<unknown, ControlMessage>;
  readonly value: t.Decoder<unknown, ControlMessage> & { readonly is: t.Is<ControlMessage> };
}

const frames: Readonly<Record<MessageTypeName, AnyMessageFrame>> = {
  none: NoneFrame,
  ack: AckFrame,
  hello: HelloFrame,
  init: InitFrame,
  'add-region': AddRegionFrame,
  'add-ring': AddRingFrame,
  connect: ConnectFrame,
  connected: ConnectedFrame,
  disconnect: DisconnectFrame,
};

const hex16 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

const isTypeName = (type: unknown): type is MessageTypeName =>
  typeof type === 'string' && Object.hasOwn(frames, type);

/** The `type` of a value that claims to be a message, if it is one we know. */
const typeNameOf = (u: unknown): MessageTypeName | undefined =>
  typeof u === 'object' && u !== null && 'type' in u && isTypeName(u.type) ? u.type : undefined;

// A switch rather than the table: it lets TypeScript pair each message with its own encoder.
const encode = (message: ControlMessage): Uint8Array => {
  switch (message.type) {
    case 'none':
      return NoneFrame.encode(message);
    case 'ack':
      return AckFrame.encode(message);
    case 'hello':
      return HelloFrame.encode(message);
    case 'init':
      return InitFrame.encode(message);
    case 'add-region':
      return AddRegionFrame.encode(message);
    case 'add-ring':
      return AddRingFrame.encode(message);
    case 'connect':
      return ConnectFrame.encode(message);
    case 'connected':
      return ConnectedFrame.encode(message);
    case 'disconnect':
      return DisconnectFrame.encode(message);
  }
};

/** Any memif control frame: dispatches on the u16 type at offset 0. */
export const ControlFrame = new t.Type<ControlMessage, Uint8Array, unknown>(
  'ControlFrame',
  (u): u is ControlMessage => {
    const name = typeNameOf(u);
    return name !== undefined && frames[name].value.is(u);
  },
  neverThrows((u, c) =>
    pipe(
      readFrame(u, c),
      E.chain((frame) => {
        const type = frame.u16(0);
        const name = messageTypeOf(type);
        if (name === undefined)
          return t.failure(type, c, `unknown message type ${type} (${hex16(type)})`);
        return frames[name].validate(u, c);
      }),
    ),
  ),
  encode,
);

/** Decodes one received datagram; never throws. */
export const decodeFrame = (bytes: unknown): E.Either<DecodeError, ControlMessage> =>
  pipe(ControlFrame.decode(bytes), E.mapLeft(toDecodeError));

/**
 * Encodes a typed message into a new 128-byte frame. Throws a TypeError only if the value breaks
 * its own types (a cast or a plain JS caller); {@link tryEncodeFrame} reports that as a Left.
 */
export const encodeFrame = (message: ControlMessage): Uint8Array => ControlFrame.encode(message);

/** Checks an untyped value against the message types (brands included), then encodes it. */
export const tryEncodeFrame = (message: unknown): E.Either<DecodeError, Uint8Array> => {
  const name = typeNameOf(message);
  if (name === undefined) {
    const why = `${describeValue(message)} is not a control message (no known \`type\`)`;
    return E.left(toDecodeError([{ value: message, context: [], message: why }]));
  }
  return pipe(frames[name].value.decode(message), E.bimap(toDecodeError, encode));
};
