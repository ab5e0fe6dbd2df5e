import { expect } from 'chai';
import fc from 'fast-check';
import * as E from 'fp-ts/Either';
import {
  DisconnectReason,
  InterfaceId,
  Log2RingSize,
  MemifName,
  RegionIndex,
  RingIndex,
  Secret,
  U16,
  U32,
  U64,
  U8,
  Version,
} from '../../src/control/brands';
import { ControlFrame, decodeFrame, encodeFrame } from '../../src/control/codec';
import { MessageType, type ControlMessage } from '../../src/control/messages';

/** Code points of `s` (NULs dropped) while their UTF-8 fits `max` bytes. */
const fitUtf8 =
  (max: number) =>
  (s: string): string => {
    let out = '';
    let bytes = 0;
    for (const ch of s.replaceAll('\0', '')) {
      bytes += Buffer.byteLength(ch);
      if (bytes > max) break;
      out += ch;
    }
    return out;
  };

/** Any Unicode (multi-byte included) or plain ASCII, cut to fit a field of `max` bytes. */
const text = (max: number) =>
  fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: max }),
      fc.string({ unit: 'grapheme-ascii', maxLength: max }),
    )
    .map(fitUtf8(max));

const memifName = text(31).filter(MemifName.is);
const secret = text(23).filter(Secret.is);
const reason = text(95).filter(DisconnectReason.is);
const u8 = fc.integer({ min: 0, max: 0xff }).filter(U8.is);
const u16 = fc.integer({ min: 0, max: 0xffff }).filter(U16.is);
const u32 = fc.integer({ min: 0, max: 0xffffffff }).filter(U32.is);
const version = fc.integer({ min: 0, max: 0xffff }).filter(Version.is);

const message: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc.constant({ type: 'none' as const }),
  fc.constant({ type: 'ack' as const }),
  fc.record({
    type: fc.constant('hello' as const),
    name: memifName,
    minVersion: version,
    maxVersion: version,
    maxRegion: u16,
    maxM2SRing: u16,
    maxS2MRing: u16,
    maxLog2RingSize: u8,
  }),
  fc.record({
    type: fc.constant('init' as const),
    version,
    id: fc.integer({ min: 0, max: 0xffffffff }).filter(InterfaceId.is),
    mode: fc.constantFrom('ethernet' as const, 'ip' as const, 'punt-inject' as const),
    secret,
    name: memifName,
  }),
  fc.record({
    type: fc.constant('add-region' as const),
    index: fc.integer({ min: 0, max: 0xffff }).filter(RegionIndex.is),
    size: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).filter(U64.is),
  }),
  fc.record({
    type: fc.constant('add-ring' as const),
    direction: fc.constantFrom('s2m' as const, 'm2s' as const),
    index: fc.integer({ min: 0, max: 0xffff }).filter(RingIndex.is),
    region: fc.integer({ min: 0, max: 0xffff }).filter(RegionIndex.is),
    offset: u32,
    log2RingSize: fc.integer({ min: 1, max: 14 }).filter(Log2RingSize.is),
    privateHdrSize: u16,
  }),
  fc.record({ type: fc.constant('connect' as const), interfaceName: memifName }),
  fc.record({ type: fc.constant('connected' as const), interfaceName: memifName }),
  fc.record({ type: fc.constant('disconnect' as const), code: u32, reason }),
);

/** Bytes rich in NULs and ASCII, so that string fields often end inside their field. */
const frameByte = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0, max: 0xff }),
);

/** 128-byte frames whose type is mostly a known one (0..8) and sometimes anything. */
const frame = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 0xffff })),
    fc.array(frameByte, { minLength: 126, maxLength: 126 }),
  )
  .map(([type, payload]) => {
    const bytes = new Uint8Array(128);
    new DataView(bytes.buffer).setUint16(0, type, true);
    bytes.set(payload, 2);
    return bytes;
  });

/** A valid frame with a few bytes overwritten: close to valid, so decoding goes deep. */
const mutatedFrame = fc
  .tuple(message, fc.array(fc.tuple(fc.integer({ min: 0, max: 127 }), frameByte), { maxLength: 4 }))
  .map(([m, edits]) => {
    const bytes = encodeFrame(m);
    for (const [at, value] of edits) bytes[at] = value;
    return bytes;
  });

/** decode never throws; when it succeeds, encode then decode gives the same value back. */
const decodesStably = (input: unknown): boolean => {
  const decoded = decodeFrame(input);
  if (E.isLeft(decoded)) {
    expect(decoded.left.message).to.be.a('string').and.not.equal('');
    return false;
  }
  const again = encodeFrame(decoded.right);
  expect(again).to.have.length(128);
  expect(decodeFrame(again)).to.deep.equal(decoded);
  return true;
};

describe('control codec: properties', () => {
  it('every valid message survives encode → decode', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(ControlFrame.is(m)).to.equal(true);
        const bytes = encodeFrame(m);
        expect(bytes).to.be.instanceOf(Uint8Array).with.length(128);
        expect(new DataView(bytes.buffer).getUint16(0, true)).to.equal(MessageType[m.type]);
        expect(decodeFrame(bytes)).to.deep.equal(E.right(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary 128-byte frames: decode never throws and what decodes re-encodes stably', () => {
    let decoded = 0;
    fc.assert(
      fc.property(frame, (bytes) => {
        if (decodesStably(bytes)) decoded++;
      }),
      { numRuns: 5000 },
    );
    expect(decoded, 'some random frames should decode').to.be.greaterThan(0);
  });

  it('valid frames with a few bytes changed: the same', () => {
    fc.assert(
      fc.property(mutatedFrame, (bytes) => {
        decodesStably(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('anything at all (any size, any type): decode gives a Left, never a throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.uint8Array({ maxLength: 300 }).filter((b) => b.length !== 128),
        ),
        (input) => {
          expect(E.isLeft(decodeFrame(input))).to.equal(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
