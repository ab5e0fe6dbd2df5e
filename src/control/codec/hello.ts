import { sequenceS } from 'fp-ts/Apply';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { MemifName, U16, U8, Version } from '../brands';
import type { HelloMessage } from '../messages';
import { fieldValidation, messageCodec } from './message-codec';

// HELLO (docs/protocol.md#hello): name[32] @2, min_version @34, max_version @36, max_region @38,
// max_m2s_ring @40, max_s2m_ring @42, max_log2_ring_size (u8) @44.
const HelloValue = t.type(
  {
    type: t.literal('hello'),
    name: MemifName,
    minVersion: Version,
    maxVersion: Version,
    maxRegion: U16,
    maxM2SRing: U16,
    maxS2MRing: U16,
    maxLog2RingSize: U8,
  },
  'HELLO',
);

export const HelloFrame = messageCodec<HelloMessage>({
  type: 'hello',
  value: HelloValue,
  read: (f) =>
    pipe(
      sequenceS(fieldValidation)({
        name: f.string('name', 2, 32, MemifName),
        minVersion: f.u16('min_version', 34, Version),
        maxVersion: f.u16('max_version', 36, Version),
        maxRegion: f.u16('max_region', 38, U16),
        maxM2SRing: f.u16('max_m2s_ring', 40, U16),
        maxS2MRing: f.u16('max_s2m_ring', 42, U16),
        // Raw: the client clamps to it, so a server advertising more is not an error here.
        maxLog2RingSize: f.u8('max_log2_ring_size', 44, U8),
      }),
      E.map((fields) => ({ type: 'hello' as const, ...fields })),
    ),
  write: (frame, m) =>
    frame
      .cString(2, 32, m.name)
      .u16(34, m.minVersion)
      .u16(36, m.maxVersion)
      .u16(38, m.maxRegion)
      .u16(40, m.maxM2SRing)
      .u16(42, m.maxS2MRing)
      .u8(44, m.maxLog2RingSize),
});
