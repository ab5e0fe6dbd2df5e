import { sequenceS } from 'fp-ts/Apply';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { Log2RingSize, RegionIndex, RingIndex, U16, U32 } from '../brands';
import type { AddRingMessage, RingDirection } from '../messages';
import { fieldValidation, messageCodec, type Fields } from './message-codec';

// ADD_RING (docs/protocol.md#add_ring): flags @2, index @4, region @6, offset (u32) @8,
// log2_ring_size (u8) @12, private_hdr_size @13. The eventfd travels beside it.
const FLAG_S2M = 0x0001;

const AddRingValue = t.type(
  {
    type: t.literal('add-ring'),
    direction: t.keyof({ s2m: null, m2s: null }, 'RingDirection'),
    index: RingIndex,
    region: RegionIndex,
    offset: U32,
    log2RingSize: Log2RingSize,
    privateHdrSize: U16,
  },
  'ADD_RING',
);

/** Bit 0 is the direction; any other bit is from a protocol we do not speak, so refuse it. */
const readDirection = (f: Fields): t.Validation<RingDirection> => {
  const flags = f.frame.u16(2);
  const unknown = flags & ~FLAG_S2M;
  if (unknown === 0) return t.success(flags & FLAG_S2M ? 's2m' : 'm2s');
  const bits = [...Array(16).keys()].filter((bit) => unknown & (1 << bit));
  const hex = `0x${flags.toString(16).padStart(4, '0')}`;
  const which = `${bits.length > 1 ? 'bits' : 'bit'} ${bits.join(', ')}`;
  return f.fail('flags', flags, `${hex} has unknown ${which} set (only bit 0, S2M, is defined)`);
};

export const AddRingFrame = messageCodec<AddRingMessage>({
  type: 'add-ring',
  value: AddRingValue,
  read: (f) =>
    pipe(
      sequenceS(fieldValidation)({
        direction: readDirection(f),
        index: f.u16('index', 4, RingIndex),
        region: f.u16('region', 6, RegionIndex),
        offset: f.u32('offset', 8, U32),
        log2RingSize: f.check('log2_ring_size', f.frame.u8(12), Log2RingSize, '1..14'),
        // Kept raw: a non-zero value is the server's to refuse, with a reason the peer can read.
        privateHdrSize: f.u16('private_hdr_size', 13, U16),
      }),
      E.map((fields) => ({ type: 'add-ring' as const, ...fields })),
    ),
  write: (frame, m) =>
    frame
      .u16(2, m.direction === 's2m' ? FLAG_S2M : 0)
      .u16(4, m.index)
      .u16(6, m.region)
      .u32(8, m.offset)
      .u8(12, m.log2RingSize)
      .u16(13, m.privateHdrSize),
});
