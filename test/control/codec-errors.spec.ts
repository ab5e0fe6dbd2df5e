import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import { endianness } from 'node:os';
import {
  AckFrame,
  AddRingFrame,
  ControlFrame,
  decodeFrame,
  encodeFrame,
  formatErrors,
  HelloFrame,
  tryEncodeFrame,
} from '../../src/control/codec';
import type { ControlMessage } from '../../src/control/messages';
import { hex, leftOf, typed } from './codec-helpers';

/** The one-line reason decodeFrame gives for bytes (or anything else). */
const reason = (input: unknown): string => leftOf(decodeFrame(input)).message;

/** A frame of `type` with `bytes` written at `offset` (the rest zero). */
const frameWith = (type: number, offset: number, bytes: ArrayLike<number>): Uint8Array => {
  const frame = new Uint8Array(128);
  frame[0] = type;
  frame.set(Array.from(bytes), offset);
  return frame;
};

// Each NUL-terminated field (docs/protocol.md#constants, docs/protocol.md#message-layouts): type,
// offset, size, and the name errors must use.
const stringFields = [
  { type: 2, offset: 2, size: 32, field: 'HELLO.name' },
  { type: 3, offset: 9, size: 24, field: 'INIT.secret' },
  { type: 3, offset: 33, size: 32, field: 'INIT.name' },
  { type: 6, offset: 2, size: 32, field: 'CONNECT.if_name' },
  { type: 7, offset: 2, size: 32, field: 'CONNECTED.if_name' },
  { type: 8, offset: 6, size: 96, field: 'DISCONNECT.string' },
] as const;

// Byte sequences a fatal UTF-8 decoder refuses.
const invalidUtf8 = [
  { name: 'a stray continuation byte', bytes: [0x61, 0x80] },
  { name: 'a truncated sequence', bytes: [0xc3] },
  { name: 'an overlong NUL', bytes: [0xc0, 0x80] },
  { name: 'an encoded surrogate', bytes: [0xed, 0xa0, 0x80] },
  { name: 'a byte that never occurs', bytes: [0xff] },
];

describe('control codec: rejections', function () {
  before(function () {
    // The frames below put the type in byte 0 and numbers little-endian; memif is host-endian.
    if (endianness() !== 'LE') this.skip();
  });

  describe('frame size and shape', () => {
    for (const size of [0, 127, 129, 256]) {
      it(`rejects a ${size}-byte frame, naming the size`, () => {
        expect(reason(new Uint8Array(size))).to.equal(
          `frame is ${size} bytes, a memif control message is exactly 128`,
        );
        expect(reason(Buffer.alloc(size, 1))).to.include(`${size} bytes`);
      });
    }

    const notBytes: ReadonlyArray<[string, unknown, string]> = [
      ['undefined', undefined, 'frame is undefined'],
      ['null', null, 'frame is null'],
      ['a number', 128, 'frame is 128'],
      ['a string', 'x'.repeat(128), 'frame is a 128-character string'],
      ['an ArrayBuffer', new ArrayBuffer(128), 'frame is an ArrayBuffer'],
      ['an Array of numbers', new Array<number>(128).fill(0), 'frame is an Array'],
      ['a Uint16Array', new Uint16Array(64), 'frame is a 128-byte Uint16Array'],
      ['a DataView', new DataView(new ArrayBuffer(128)), 'frame is a 128-byte DataView'],
      ['a Proxy of a Uint8Array', new Proxy(new Uint8Array(128), {}), 'frame is a Proxy'],
      [
        'a Proxy whose traps throw',
        new Proxy(new Uint8Array(128), {
          getPrototypeOf: () => {
            throw new Error('trap');
          },
        }),
        'frame is a Proxy',
      ],
      ['a plain object', { type: 'ack' }, 'frame is an object'],
    ];
    for (const [name, input, start] of notBytes) {
      it(`rejects ${name} without throwing`, () => {
        const message = reason(input);
        expect(message).to.match(new RegExp(`^${start}`));
        expect(message).to.include('expected a Uint8Array of 128 bytes');
      });
    }
  });

  it('turns a Uint8Array whose getters throw into a Left', () => {
    class Hostile extends Uint8Array {
      override get length(): number {
        throw new Error('no length for you');
      }
    }
    expect(reason(new Hostile(128))).to.equal('frame could not be read: no length for you');
  });

  describe('message type', () => {
    for (const [type, text] of [
      [0x0009, 'unknown message type 9 (0x0009)'],
      [0xffff, 'unknown message type 65535 (0xffff)'],
      [0x0100, 'unknown message type 256 (0x0100)'],
    ] as const) {
      it(`rejects type ${type}`, () => {
        const frame = new Uint8Array(128);
        new DataView(frame.buffer).setUint16(0, type, true);
        expect(reason(frame)).to.equal(text);
      });
    }

    it('a single-message codec rejects a frame of another type, naming both', () => {
      const ack = hex('01 00  @0 ACK');
      expect(formatErrors(leftOf(HelloFrame.decode(ack)))).to.equal(
        'HELLO: frame has message type 1 (ACK), expected 2',
      );
      expect(formatErrors(leftOf(AckFrame.decode(new Uint8Array(128))))).to.equal(
        'ACK: frame has message type 0 (NONE), expected 1',
      );
    });
  });

  describe('string fields', () => {
    for (const { type, offset, size, field } of stringFields) {
      it(`${field}: rejects ${size} bytes without a NUL`, () => {
        const frame = frameWith(type, offset, new Array<number>(size).fill(0x61));
        expect(reason(frame)).to.equal(`${field}: no NUL terminator inside the ${size}-byte field`);
      });

      it(`${field}: a NUL just past the field does not count`, () => {
        // The next byte is either the next field or padding; the field itself must hold the NUL.
        const frame = frameWith(type, offset, new Array<number>(size).fill(0x61));
        frame[offset + size] = 0;
        expect(reason(frame)).to.include(`${field}: no NUL terminator`);
      });

      for (const { name, bytes } of invalidUtf8) {
        it(`${field}: rejects ${name}`, () => {
          expect(reason(frameWith(type, offset, bytes))).to.equal(
            `${field}: bytes before the NUL are not valid UTF-8`,
          );
        });
      }
    }

    it('invalid UTF-8 after the NUL is ignored', () => {
      expect(decodeFrame(frameWith(6, 2, [0x61, 0x00, 0xff, 0xc3]))).to.deep.equal(
        E.right({ type: 'connect', interfaceName: 'a' }),
      );
    });
  });

  describe('numeric fields', () => {
    it('INIT.mode: rejects 3 and 255', () => {
      for (const mode of [3, 255]) {
        const frame = frameWith(3, 2, [0x00, 0x02, 0x01, 0, 0, 0, mode]);
        expect(reason(frame)).to.equal(
          `INIT.mode: ${mode} is not an interface mode (0 ethernet, 1 ip, 2 punt/inject)`,
        );
      }
    });

    it('ADD_RING.log2_ring_size: rejects 0 and 15, accepts 1 and 14', () => {
      const ring = (log2: number) => frameWith(5, 12, [log2]);
      expect(reason(ring(0))).to.equal('ADD_RING.log2_ring_size: 0 is out of range 1..14');
      expect(reason(ring(15))).to.equal('ADD_RING.log2_ring_size: 15 is out of range 1..14');
      expect(E.isRight(decodeFrame(ring(1)))).to.equal(true);
      expect(E.isRight(decodeFrame(ring(14)))).to.equal(true);
    });

    it('ADD_RING.flags: rejects any bit but bit 0, naming the bits', () => {
      const ring = (flags: number) =>
        frameWith(5, 2, [flags & 0xff, flags >> 8, 0, 0, 0, 0, 0, 0, 0, 0, 10]);
      expect(reason(ring(0x0002))).to.equal(
        'ADD_RING.flags: 0x0002 has unknown bit 1 set (only bit 0, S2M, is defined)',
      );
      expect(reason(ring(0x8003))).to.equal(
        'ADD_RING.flags: 0x8003 has unknown bits 1, 15 set (only bit 0, S2M, is defined)',
      );
    });

    it('reports every bad field of a frame at once, in one line', () => {
      const frame = frameWith(5, 2, [0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 15]);
      const errors = leftOf(AddRingFrame.decode(frame));
      expect(errors).to.have.length(2);
      const line = formatErrors(errors);
      expect(line).to.not.include('\n');
      expect(line).to.equal(
        'ADD_RING.flags: 0x0002 has unknown bit 1 set (only bit 0, S2M, is defined); ' +
          'ADD_RING.log2_ring_size: 15 is out of range 1..14',
      );
    });

    it('HELLO.max_log2_ring_size and ADD_RING.private_hdr_size are kept raw', () => {
      const hello = frameWith(2, 44, [0xff]);
      expect(leftOf(E.swap(decodeFrame(hello)))).to.include({ maxLog2RingSize: 255 });
      const ring = frameWith(5, 12, [10, 0x34, 0x12]);
      expect(leftOf(E.swap(decodeFrame(ring)))).to.include({ privateHdrSize: 0x1234 });
    });
  });

  describe('decodeFrame', () => {
    it('returns the io-ts errors beside the one-line message', () => {
      const error = leftOf(decodeFrame(new Uint8Array(3)));
      expect(error.errors).to.have.length(1);
      expect(error.errors[0].value).to.be.instanceOf(Uint8Array);
      expect(error.message).to.equal(formatErrors(error.errors));
    });
  });

  describe('encoding guard (values that break their own types)', () => {
    const valid = {
      type: 'init',
      version: 0x0200,
      id: 7,
      mode: 'ip',
      secret: 's3cret',
      name: 'libmemif-app',
    } as const;

    const bad: ReadonlyArray<[string, Record<string, unknown>, string]> = [
      ['a 32-byte name', { ...valid, name: 'n'.repeat(32) }, 'INIT.name'],
      ['a 24-byte secret', { ...valid, secret: 's'.repeat(24) }, 'INIT.secret'],
      ['a multi-byte name over 31 bytes', { ...valid, name: 'é'.repeat(16) }, 'INIT.name'],
      ['a NUL inside a string', { ...valid, name: 'a\0b' }, 'INIT.name'],
      ['a lone surrogate', { ...valid, secret: 'x\ud800' }, 'INIT.secret'],
      ['an unknown mode', { ...valid, mode: 'tap' }, 'INIT.mode'],
      ['an id beyond u32', { ...valid, id: 2 ** 32 }, 'INIT.id'],
      ['a fractional version', { ...valid, version: 1.5 }, 'INIT.version'],
    ];
    for (const [name, value, field] of bad) {
      it(`refuses ${name}: tryEncodeFrame gives a Left, encodeFrame throws a TypeError`, () => {
        expect(leftOf(tryEncodeFrame(value)).message).to.include(field);
        expect(() => encodeFrame(value as unknown as ControlMessage)).to.throw(TypeError, field);
      });
    }

    it('refuses out-of-range ring, region and size values', () => {
      const ring = { type: 'add-ring', direction: 's2m', index: 0, region: 0, offset: 0 };
      const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ ...ring, log2RingSize: 15, privateHdrSize: 0 }, 'ADD_RING.log2RingSize'],
        [{ ...ring, log2RingSize: 0, privateHdrSize: 0 }, 'ADD_RING.log2RingSize'],
        [{ ...ring, log2RingSize: 10, privateHdrSize: 0x10000 }, 'ADD_RING.privateHdrSize'],
        [{ ...ring, direction: 'both', log2RingSize: 10, privateHdrSize: 0 }, 'direction'],
        [{ type: 'add-region', index: 0, size: -1n }, 'ADD_REGION.size'],
        [{ type: 'add-region', index: 0, size: 2n ** 64n }, 'ADD_REGION.size'],
        [{ type: 'add-region', index: 0, size: 4096 }, 'ADD_REGION.size'],
        [{ type: 'hello', name: 'x' }, 'HELLO.minVersion'],
        [{ type: 'disconnect', code: 0, reason: 'r'.repeat(96) }, 'DISCONNECT.reason'],
      ];
      for (const [value, field] of cases) {
        expect(leftOf(tryEncodeFrame(value)).message).to.include(field);
      }
    });

    it('refuses values that are not messages at all', () => {
      expect(leftOf(tryEncodeFrame({ type: 'bogus' })).message).to.equal(
        'an object is not a control message (no known `type`)',
      );
      expect(leftOf(tryEncodeFrame(null)).message).to.include('null is not a control message');
      expect(ControlFrame.is({ type: 'ack', extra: 1 })).to.equal(true);
      expect(ControlFrame.is({ type: 'hello' })).to.equal(false);
      expect(ControlFrame.is(hex('01 00 @0 an ACK frame is bytes, not a message'))).to.equal(false);
    });

    it('encodes a valid value given as a plain object', () => {
      const frame = leftOf(E.swap(tryEncodeFrame(valid)));
      expect(decodeFrame(frame)).to.deep.equal(E.right(typed(valid)));
    });
  });
});
