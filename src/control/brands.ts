import * as t from 'io-ts';

/**
 * Refined numbers and strings of the memif protocol, as io-ts codecs with brands, so that a value
 * of the type has been checked against its range once, where it entered the program.
 */

const isInteger = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** A lone surrogate has no UTF-8 form (it would be sent as U+FFFD and come back changed). */
const isWellFormed = (s: string): boolean => !/\p{Surrogate}/u.test(s);

/** An integer codec branded `N`, accepting `min..max`. */
const intBrand = <B extends { readonly [K in N]: symbol }, N extends string>(
  name: N,
  min: number,
  max: number,
) =>
  t.brand(t.number, (n): n is t.Branded<number, B> => isInteger(n) && n >= min && n <= max, name);

export interface U8Brand {
  readonly U8: unique symbol;
}
export const U8 = intBrand<U8Brand, 'U8'>('U8', 0, 0xff);
export type U8 = t.TypeOf<typeof U8>;

export interface U16Brand {
  readonly U16: unique symbol;
}
export const U16 = intBrand<U16Brand, 'U16'>('U16', 0, 0xffff);
export type U16 = t.TypeOf<typeof U16>;

export interface U32Brand {
  readonly U32: unique symbol;
}
export const U32 = intBrand<U32Brand, 'U32'>('U32', 0, 0xffffffff);
export type U32 = t.TypeOf<typeof U32>;

export interface U64Brand {
  readonly U64: unique symbol;
}
export const U64 = t.brand(
  t.bigint,
  (n): n is t.Branded<bigint, U64Brand> => n >= 0n && n <= 0xffffffffffffffffn,
  'U64',
);
export type U64 = t.TypeOf<typeof U64>;

/** Interface id: u32, unique per socket and role. */
export interface InterfaceIdBrand {
  readonly InterfaceId: unique symbol;
}
export const InterfaceId = intBrand<InterfaceIdBrand, 'InterfaceId'>('InterfaceId', 0, 0xffffffff);
export type InterfaceId = t.TypeOf<typeof InterfaceId>;

/** log2 of a ring's slot count: 1..14 (every current server advertises 14 at most). */
export interface Log2RingSizeBrand {
  readonly Log2RingSize: unique symbol;
}
export const Log2RingSize = intBrand<Log2RingSizeBrand, 'Log2RingSize'>('Log2RingSize', 1, 14);
export type Log2RingSize = t.TypeOf<typeof Log2RingSize>;

/** Region index as carried on the wire (u16). The server limits it further (<= 255). */
export interface RegionIndexBrand {
  readonly RegionIndex: unique symbol;
}
export const RegionIndex = intBrand<RegionIndexBrand, 'RegionIndex'>('RegionIndex', 0, 0xffff);
export type RegionIndex = t.TypeOf<typeof RegionIndex>;

/** Ring index within its direction as carried on the wire (u16). */
export interface RingIndexBrand {
  readonly RingIndex: unique symbol;
}
export const RingIndex = intBrand<RingIndexBrand, 'RingIndex'>('RingIndex', 0, 0xffff);
export type RingIndex = t.TypeOf<typeof RingIndex>;

/** Protocol version, `(major << 8) | minor` (u16). */
export interface VersionBrand {
  readonly Version: unique symbol;
}
export const Version = intBrand<VersionBrand, 'Version'>('Version', 0, 0xffff);
export type Version = t.TypeOf<typeof Version>;

export const MEMIF_VERSION = 0x0200 as Version;

/**
 * A well-formed string whose UTF-8 encoding fits `max` bytes and holds no NUL (the field adds
 * the NUL).
 */
const boundedString = <B extends { readonly [K in N]: symbol }, N extends string>(
  name: N,
  max: number,
) =>
  t.brand(
    t.string,
    (s): s is t.Branded<string, B> => !s.includes('\0') && isWellFormed(s) && utf8Length(s) <= max,
    name,
  );

/** App or interface name: at most 31 bytes (32-byte field, NUL-terminated). */
export interface MemifNameBrand {
  readonly MemifName: unique symbol;
}
export const MemifName = boundedString<MemifNameBrand, 'MemifName'>('MemifName', 31);
export type MemifName = t.TypeOf<typeof MemifName>;

/** Shared secret: at most 23 bytes (24-byte field, NUL-terminated). Empty = no secret. */
export interface SecretBrand {
  readonly Secret: unique symbol;
}
export const Secret = boundedString<SecretBrand, 'Secret'>('Secret', 23);
export type Secret = t.TypeOf<typeof Secret>;

/** DISCONNECT reason: at most 95 bytes (96-byte field, NUL-terminated). */
export interface DisconnectReasonBrand {
  readonly DisconnectReason: unique symbol;
}
export const DisconnectReason = boundedString<DisconnectReasonBrand, 'DisconnectReason'>(
  'DisconnectReason',
  95,
);
export type DisconnectReason = t.TypeOf<typeof DisconnectReason>;

/**
 * Truncates text to a valid {@link DisconnectReason} (byte-wise, never splitting a UTF-8
 * character), for reasons built from our own error messages.
 */
export const toDisconnectReason = (text: string): DisconnectReason => {
  let out = '';
  let bytes = 0;
  // By code point, so a surrogate pair is never split.
  for (const ch of text.replace(/\0/g, ' ').replace(/\p{Surrogate}/gu, '\uFFFD')) {
    bytes += utf8Length(ch);
    if (bytes > 95) break;
    out += ch;
  }
  return out as DisconnectReason;
};

/** The interface mode carried in INIT (u8 0, 1, 2). */
export const InterfaceMode = t.keyof(
  { ethernet: null, ip: null, 'punt-inject': null },
  'InterfaceMode',
);
export type InterfaceMode = t.TypeOf<typeof InterfaceMode>;

export const interfaceModeValue: Readonly<Record<InterfaceMode, number>> = {
  ethernet: 0,
  ip: 1,
  'punt-inject': 2,
};

export const interfaceModeOf = (value: number): InterfaceMode | undefined =>
  (['ethernet', 'ip', 'punt-inject'] as const)[value];
