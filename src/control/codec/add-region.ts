import { sequenceS } from 'fp-ts/Apply';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { RegionIndex, U64 } from '../brands';
import type { AddRegionMessage } from '../messages';
import { fieldValidation, messageCodec } from './message-codec';

// ADD_REGION (docs/protocol.md#add_region): index (u16) @2, size (u64) @4. The fd travels beside
// it.
const AddRegionValue = t.type(
  { type: t.literal('add-region'), index: RegionIndex, size: U64 },
  'ADD_REGION',
);

export const AddRegionFrame = messageCodec<AddRegionMessage>({
  type: 'add-region',
  value: AddRegionValue,
  read: (f) =>
    pipe(
      sequenceS(fieldValidation)({
        index: f.u16('index', 2, RegionIndex),
        size: f.u64('size', 4, U64),
      }),
      E.map((fields) => ({ type: 'add-region' as const, ...fields })),
    ),
  write: (frame, m) => frame.u16(2, m.index).u64(4, m.size),
});
