import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { types } from 'node:util';
import { FRAME_SIZE, MessageType, type ControlMessage, type MessageTypeName } from '../messages';
import { describeValue, formatErrors } from './errors';
import { FrameReader, FrameWriter } from './frame';

/** Accumulates errors across fields (with `sequenceS`), so every bad field is reported at once. */
export const fieldValidation = E.getApplicativeValidation(A.getSemigroup<t.ValidationError>());

/** The names used by the C headers and docs/protocol.md, for error messages. */
export const wireName: Readonly<Record<MessageTypeName, string>> = {
  none: 'NONE',
  ack: 'ACK',
  hello: 'HELLO',
  init: 'INIT',
  'add-region': 'ADD_REGION',
  'add-ring': 'ADD_RING',
  connect: 'CONNECT',
  connected: 'CONNECTED',
  disconnect: 'DISCONNECT',
};

const typeNames = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, value]) => [value, name as MessageTypeName]),
);

/** The message type name for a wire number, if there is one. */
export const messageTypeOf = (type: number): MessageTypeName | undefined => typeNames.get(type);

/** Checks that `u` is a 128-byte Uint8Array (Buffer included) and returns a reader over it. */
export const readFrame = (u: unknown, c: t.Context): t.Validation<FrameReader> => {
  // types.isUint8Array reads the internal slot: Buffers and other realms pass, Proxies do not.
  if (!types.isUint8Array(u)) {
    return t.failure(
      u,
      c,
      `frame is ${describeValue(u)}, expected a Uint8Array of ${FRAME_SIZE} bytes`,
    );
  }
  if (u.length !== FRAME_SIZE) {
    return t.failure(
      u,
      c,
      `frame is ${u.length} bytes, a memif control message is exactly ${FRAME_SIZE}`,
    );
  }
  return t.success(new FrameReader(u));
};

/**
 * Turns a throw into a failure. Plain bytes never throw; this is for hostile inputs such as a
 * Uint8Array subclass whose getters throw, so that decoding is total as promised.
 */
export const neverThrows =
  <A>(validate: t.Validate<unknown, A>): t.Validate<unknown, A> =>
  (u, c) => {
    try {
      return validate(u, c);
    } catch (error) {
      const why = error instanceof Error ? error.message : 'unknown error';
      return t.failure(u, c, `frame could not be read: ${why}`);
    }
  };

/** Reads and checks the fields of one message; failures read `ADD_RING.flags: why`. */
export class Fields {
  constructor(
    readonly frame: FrameReader,
    private readonly label: string,
    private readonly context: t.Context,
  ) {}

  fail<A>(field: string, value: unknown, why: string): t.Validation<A> {
    return t.failure(
      value,
      t.appendContext(this.context, field, t.unknown, value),
      `${this.label}.${field}: ${why}`,
    );
  }

  /** A value read from the frame, checked against a brand (`range` words the bound). */
  check<A>(
    field: string,
    raw: unknown,
    codec: t.Type<A, unknown, unknown>,
    range?: string,
  ): t.Validation<A> {
    if (codec.is(raw)) return t.success(raw);
    const shown = describeValue(raw);
    const why = range === undefined ? `is not a valid ${codec.name}` : `is out of range ${range}`;
    return this.fail(field, raw, `${shown} ${why}`);
  }

  u8<A>(field: string, offset: number, codec: t.Type<A, unknown, unknown>): t.Validation<A> {
    return this.check(field, this.frame.u8(offset), codec);
  }

  u16<A>(field: string, offset: number, codec: t.Type<A, unknown, unknown>): t.Validation<A> {
    return this.check(field, this.frame.u16(offset), codec);
  }

  u32<A>(field: string, offset: number, codec: t.Type<A, unknown, unknown>): t.Validation<A> {
    return this.check(field, this.frame.u32(offset), codec);
  }

  u64<A>(field: string, offset: number, codec: t.Type<A, unknown, unknown>): t.Validation<A> {
    return this.check(field, this.frame.u64(offset), codec);
  }

  /** A NUL-terminated UTF-8 string field of `size` bytes. */
  string<A>(
    field: string,
    offset: number,
    size: number,
    codec: t.Type<A, unknown, unknown>,
  ): t.Validation<A> {
    const s = this.frame.cString(offset, size);
    const bytes = this.frame.bytes(offset, size);
    if (s === 'no-nul')
      return this.fail(field, bytes, `no NUL terminator inside the ${size}-byte field`);
    if (s === 'bad-utf8')
      return this.fail(field, bytes, 'bytes before the NUL are not valid UTF-8');
    return this.check(field, s, codec);
  }
}

/** How one message type maps between its typed value and its frame. */
export interface MessageSpec<M extends ControlMessage> {
  readonly type: M['type'];
  /** The message as a value of brands: the codec's `is`, and the encoder's guard. */
  readonly value: t.Type<M, unknown, unknown>;
  /** Reads the payload; the frame's size and type are already checked. */
  readonly read: (fields: Fields) => t.Validation<M>;
  /** Writes the payload into a zeroed frame that already carries the type. */
  readonly write: (frame: FrameWriter, message: M) => void;
}

/** The frame codec of one message type; `value` checks a typed value of it (the brands). */
export class MessageFrameType<M extends ControlMessage> extends t.Type<M, Uint8Array, unknown> {
  constructor(
    name: string,
    validate: t.Validate<unknown, M>,
    encode: t.Encode<M, Uint8Array>,
    readonly value: t.Type<M, unknown, unknown>,
  ) {
    super(name, value.is, validate, encode);
  }
}

export const messageCodec = <M extends ControlMessage>(
  spec: MessageSpec<M>,
): MessageFrameType<M> => {
  const label = wireName[spec.type];
  const type = MessageType[spec.type];
  return new MessageFrameType<M>(
    `${label} frame`,
    neverThrows((u, c) =>
      pipe(
        readFrame(u, c),
        E.chain((frame) => {
          const actual = frame.u16(0);
          if (actual === type) return spec.read(new Fields(frame, label, c));
          const name = messageTypeOf(actual);
          const shown = name === undefined ? `${actual}` : `${actual} (${wireName[name]})`;
          return t.failure(u, c, `${label}: frame has message type ${shown}, expected ${type}`);
        }),
      ),
    ),
    (message) => {
      // Types forbid a bad value here, but a cast or plain JS caller could pass one; refuse it
      // rather than send a frame the peer (or our own decoder) would reject.
      const checked = spec.value.decode(message);
      if (E.isLeft(checked)) throw new TypeError(`cannot encode: ${formatErrors(checked.left)}`);
      const frame = new FrameWriter(type);
      spec.write(frame, checked.right);
      return frame.bytes;
    },
    spec.value,
  );
};
