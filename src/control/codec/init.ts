import { sequenceS } from 'fp-ts/Apply';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import {
  InterfaceId,
  InterfaceMode,
  interfaceModeOf,
  interfaceModeValue,
  MemifName,
  Secret,
  Version,
} from '../brands';
import type { InitMessage } from '../messages';
import { fieldValidation, messageCodec, type Fields } from './message-codec';

// INIT (docs/protocol.md#init): version @2, id (u32) @4, mode (u8) @8, secret[24] @9, name[32] @33.
const InitValue = t.type(
  {
    type: t.literal('init'),
    // Not pinned to 0x0200: the server answers a wrong version with a reason, not a parse error.
    version: Version,
    id: InterfaceId,
    mode: InterfaceMode,
    secret: Secret,
    name: MemifName,
  },
  'INIT',
);

const readMode = (f: Fields): t.Validation<InterfaceMode> => {
  const raw = f.frame.u8(8);
  const mode = interfaceModeOf(raw);
  if (mode !== undefined) return t.success(mode);
  return f.fail('mode', raw, `${raw} is not an interface mode (0 ethernet, 1 ip, 2 punt/inject)`);
};

export const InitFrame = messageCodec<InitMessage>({
  type: 'init',
  value: InitValue,
  read: (f) =>
    pipe(
      sequenceS(fieldValidation)({
        version: f.u16('version', 2, Version),
        id: f.u32('id', 4, InterfaceId),
        mode: readMode(f),
        secret: f.string('secret', 9, 24, Secret),
        name: f.string('name', 33, 32, MemifName),
      }),
      E.map((fields) => ({ type: 'init' as const, ...fields })),
    ),
  write: (frame, m) =>
    frame
      .u16(2, m.version)
      .u32(4, m.id)
      .u8(8, interfaceModeValue[m.mode])
      .cString(9, 24, m.secret)
      .cString(33, 32, m.name),
});
