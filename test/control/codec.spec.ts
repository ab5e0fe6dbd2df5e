/**
 * Golden frames, written by hand from the protocol's tables, never produced by our encoder.
 * Layouts and offsets: docs/protocol.md#message-layouts (HELLO, INIT, ADD_REGION, ADD_RING,
 * CONNECT/CONNECTED, DISCONNECT; ACK and NONE are the type alone, with the type numbers); version
 * 0x0200: docs/protocol.md#constants; byte order: docs/protocol.md#roles-and-conventions
 * (host-endian, little-endian here). Values (docs/protocol.md#what-each-peer-sends):
 * - DPDK HELLO: 255/255/255, 14, app name `rte_version()`, here "DPDK 22.11.11".
 * - VPP HELLO: 256/256/256, 14, app name "VPP <build version>".
 * - libmemif INIT: docs/protocol.md#init (tests use "libmemif-app"); mode ip = 1
 *   (docs/protocol.md#interface-modes). VPP client INIT: same, no secret (all zero).
 * - ADD_REGION 0 of 4 227 328 bytes, ADD_RING S2M at 0 and M2S at 16512 with log2 10: the worked
 *   example of docs/protocol.md#worked-example (VPP/DPDK single-region layout); ADD_REGION 1 of
 *   4 194 304: libmemif's buffer region in the same example.
 * - CONNECT "net_memif0" (DPDK) and CONNECTED "memif0/0" (VPP): the interface names they send.
 * - DISCONNECT code 0 "Incorrect secret": what DPDK and libmemif send for a wrong secret
 *   (docs/protocol.md#server-checks, docs/protocol.md#disconnect).
 */
import { expect } from 'chai';
import * as E from 'fp-ts/Either';
import { endianness } from 'node:os';
import type * as t from 'io-ts';
import {
  AckFrame,
  AddRegionFrame,
  AddRingFrame,
  ConnectedFrame,
  ConnectFrame,
  ControlFrame,
  decodeFrame,
  DisconnectFrame,
  encodeFrame,
  HelloFrame,
  InitFrame,
  NoneFrame,
} from '../../src/control/codec';
import type { ControlMessage } from '../../src/control/messages';
import { hex, toHex, typed, type Plain } from './codec-helpers';

const golden = <M extends ControlMessage>(
  title: string,
  codec: t.Type<M, Uint8Array, unknown>,
  value: Plain<M>,
  vector: Uint8Array,
): void => {
  describe(title, () => {
    const message = typed<M>(value);

    it('is a valid message value', () => {
      expect(ControlFrame.is(message)).to.equal(true);
      expect(codec.is(message)).to.equal(true);
    });

    it('decodes to the value (own codec, ControlFrame, decodeFrame)', () => {
      expect(codec.decode(vector)).to.deep.equal(E.right(message));
      expect(ControlFrame.decode(vector)).to.deep.equal(E.right(message));
      expect(decodeFrame(vector)).to.deep.equal(E.right(message));
    });

    it('encodes to the vector byte for byte', () => {
      expect(toHex(codec.encode(message))).to.equal(toHex(vector));
      expect(toHex(encodeFrame(message))).to.equal(toHex(vector));
    });

    it('decodes from a Buffer that is a view into a larger buffer', () => {
      const pool = Buffer.alloc(300, 0xee);
      vector.forEach((byte, i) => (pool[37 + i] = byte));
      expect(decodeFrame(pool.subarray(37, 37 + 128))).to.deep.equal(E.right(message));
    });
  });
};

describe('control codec: golden frames (docs/protocol.md#message-layouts)', function () {
  before(function () {
    // The vectors are little-endian; memif is host-endian (docs/protocol.md#roles-and-conventions).
    if (endianness() !== 'LE') this.skip();
  });

  golden(
    'NONE',
    NoneFrame,
    { type: 'none' },
    hex(`
      00 00                                         @0  type = 0 (NONE)
    `),
  );

  golden(
    'ACK',
    AckFrame,
    { type: 'ack' },
    hex(`
      01 00                                         @0  type = 1 (ACK)
    `),
  );

  golden(
    'HELLO from a DPDK server',
    HelloFrame,
    {
      type: 'hello',
      name: 'DPDK 22.11.11',
      minVersion: 0x0200,
      maxVersion: 0x0200,
      maxRegion: 255,
      maxM2SRing: 255,
      maxS2MRing: 255,
      maxLog2RingSize: 14,
    },
    hex(`
      02 00                                         @0  type = 2 (HELLO)
      44 50 44 4b 20 32 32 2e 31 31 2e 31 31        @2  name = "DPDK 22.11.11" (13 bytes)
      00*19                                         @15 name: NUL, zero to the end of char[32]
      00 02                                         @34 min_version = 0x0200
      00 02                                         @36 max_version = 0x0200
      ff 00                                         @38 max_region = 255
      ff 00                                         @40 max_m2s_ring (DPDK max_s2c_ring) = 255
      ff 00                                         @42 max_s2m_ring (DPDK max_c2s_ring) = 255
      0e                                            @44 max_log2_ring_size = 14
    `),
  );

  golden(
    'HELLO from a VPP server',
    HelloFrame,
    {
      type: 'hello',
      name: 'VPP 25.02-release',
      minVersion: 0x0200,
      maxVersion: 0x0200,
      maxRegion: 256,
      maxM2SRing: 256,
      maxS2MRing: 256,
      maxLog2RingSize: 14,
    },
    hex(`
      02 00                                         @0  type = 2 (HELLO)
      56 50 50 20 32 35 2e 30 32 2d 72 65 6c 65 61 73 65  @2  name = "VPP 25.02-release" (17)
      00*15                                         @19 name: NUL and zero fill
      00 02                                         @34 min_version = 0x0200
      00 02                                         @36 max_version = 0x0200
      00 01                                         @38 max_region = 256
      00 01                                         @40 max_m2s_ring = 256
      00 01                                         @42 max_s2m_ring = 256
      0e                                            @44 max_log2_ring_size = 14
    `),
  );

  golden(
    'INIT from a libmemif client (id 7, mode ip, secret)',
    InitFrame,
    {
      type: 'init',
      version: 0x0200,
      id: 7,
      mode: 'ip',
      secret: 's3cret',
      name: 'libmemif-app',
    },
    hex(`
      03 00                                         @0  type = 3 (INIT)
      00 02                                         @2  version = 0x0200
      07 00 00 00                                   @4  id = 7 (u32)
      01                                            @8  mode = 1 (ip)
      73 33 63 72 65 74                             @9  secret = "s3cret"
      00*18                                         @15 secret: NUL and zero fill of u8[24]
      6c 69 62 6d 65 6d 69 66 2d 61 70 70           @33 name = "libmemif-app" (12 bytes)
      00*20                                         @45 name: NUL and zero fill of char[32]
    `),
  );

  golden(
    'INIT from a VPP client (no secret, ethernet)',
    InitFrame,
    {
      type: 'init',
      version: 0x0200,
      id: 1234567,
      mode: 'ethernet',
      secret: '',
      name: 'VPP 25.02-release',
    },
    hex(`
      03 00                                         @0  type = 3 (INIT)
      00 02                                         @2  version = 0x0200
      87 d6 12 00                                   @4  id = 1234567 = 0x0012d687
      00                                            @8  mode = 0 (ethernet)
      00*24                                         @9  secret: all zero (none)
      56 50 50 20 32 35 2e 30 32 2d 72 65 6c 65 61 73 65  @33 name = "VPP 25.02-release"
      00*15                                         @50 name: NUL and zero fill
    `),
  );

  golden(
    'ADD_REGION 0 of the worked example (VPP/DPDK layout)',
    AddRegionFrame,
    { type: 'add-region', index: 0, size: 4227328n },
    hex(`
      04 00                                         @0  type = 4 (ADD_REGION)
      00 00                                         @2  index = 0
      00 81 40 00 00 00 00 00                       @4  size = 4227328 = 0x408100 (u64)
    `),
  );

  golden(
    'ADD_REGION 1 of the worked example (libmemif buffer region)',
    AddRegionFrame,
    { type: 'add-region', index: 1, size: 4194304n },
    hex(`
      04 00                                         @0  type = 4 (ADD_REGION)
      01 00                                         @2  index = 1
      00 00 40 00 00 00 00 00                       @4  size = 4194304 = 0x400000
    `),
  );

  golden(
    'ADD_REGION with a size past 2^53 (u64 kept exact as bigint)',
    AddRegionFrame,
    { type: 'add-region', index: 2, size: 0x0123456789abcdefn },
    hex(`
      04 00                                         @0  type = 4 (ADD_REGION)
      02 00                                         @2  index = 2
      ef cd ab 89 67 45 23 01                       @4  size = 0x0123456789abcdef
    `),
  );

  golden(
    'ADD_RING S2M ring 0 of the worked example',
    AddRingFrame,
    {
      type: 'add-ring',
      direction: 's2m',
      index: 0,
      region: 0,
      offset: 0,
      log2RingSize: 10,
      privateHdrSize: 0,
    },
    hex(`
      05 00                                         @0  type = 5 (ADD_RING)
      01 00                                         @2  flags = 1 (MEMIF_MSG_ADD_RING_FLAG_S2M)
      00 00                                         @4  index = 0
      00 00                                         @6  region = 0
      00 00 00 00                                   @8  offset = 0 (u32)
      0a                                            @12 log2_ring_size = 10
      00 00                                         @13 private_hdr_size = 0
    `),
  );

  golden(
    'ADD_RING M2S ring 0 of the worked example',
    AddRingFrame,
    {
      type: 'add-ring',
      direction: 'm2s',
      index: 0,
      region: 0,
      offset: 16512,
      log2RingSize: 10,
      privateHdrSize: 0,
    },
    hex(`
      05 00                                         @0  type = 5 (ADD_RING)
      00 00                                         @2  flags = 0 (M2S)
      00 00                                         @4  index = 0
      00 00                                         @6  region = 0
      80 40 00 00                                   @8  offset = 16512 = 0x4080 (one ring stride)
      0a                                            @12 log2_ring_size = 10
      00 00                                         @13 private_hdr_size = 0
    `),
  );

  golden(
    'CONNECT from a DPDK client',
    ConnectFrame,
    { type: 'connect', interfaceName: 'net_memif0' },
    hex(`
      06 00                                         @0  type = 6 (CONNECT)
      6e 65 74 5f 6d 65 6d 69 66 30                 @2  if_name = "net_memif0" (10 bytes)
      00*22                                         @12 if_name: NUL and zero fill of char[32]
    `),
  );

  golden(
    'CONNECTED from a VPP server',
    ConnectedFrame,
    { type: 'connected', interfaceName: 'memif0/0' },
    hex(`
      07 00                                         @0  type = 7 (CONNECTED)
      6d 65 6d 69 66 30 2f 30                       @2  if_name = "memif0/0" (8 bytes)
      00*24                                         @10 if_name: NUL and zero fill
    `),
  );

  golden(
    'CONNECT with a non-ASCII interface name (UTF-8)',
    ConnectFrame,
    { type: 'connect', interfaceName: 'café0' },
    hex(`
      06 00                                         @0  type = 6 (CONNECT)
      63 61 66 c3 a9 30                             @2  if_name = "café0" (é = c3 a9)
    `),
  );

  golden(
    'DISCONNECT "Incorrect secret"',
    DisconnectFrame,
    { type: 'disconnect', code: 0, reason: 'Incorrect secret' },
    hex(`
      08 00                                         @0  type = 8 (DISCONNECT)
      00 00 00 00                                   @2  code = 0 (u32)
      49 6e 63 6f 72 72 65 63 74 20 73 65 63 72 65 74  @6  string = "Incorrect secret" (16)
      00*80                                         @22 string: NUL and zero fill of char[96]
    `),
  );

  golden(
    'DISCONNECT from VPP with an errno code',
    DisconnectFrame,
    { type: 'disconnect', code: 104, reason: 'disconnect received' },
    hex(`
      08 00                                         @0  type = 8 (DISCONNECT)
      68 00 00 00                                   @2  code = 104 (ECONNRESET)
      64 69 73 63 6f 6e 6e 65 63 74 20 72 65 63 65 69 76 65 64  @6  "disconnect received"
    `),
  );

  describe('fields at full width', () => {
    it('reads a 31-byte name, a 23-byte secret and a 95-byte reason', () => {
      const init = hex(`
        03 00                                       @0  INIT
        00 02                                       @2  version
        01 00 00 00                                 @4  id = 1
        02                                          @8  mode = 2 (punt/inject)
        78*23 00                                    @9  secret = 23 x "x" + NUL
        6e*31 00                                    @33 name = 31 x "n" + NUL
      `);
      expect(decodeFrame(init)).to.deep.equal(
        E.right({
          type: 'init',
          version: 0x0200,
          id: 1,
          mode: 'punt-inject',
          secret: 'x'.repeat(23),
          name: 'n'.repeat(31),
        }),
      );
      const disconnect = hex(`
        08 00                                       @0  DISCONNECT
        ff ff ff ff                                 @2  code = 0xffffffff
        72*95 00                                    @6  string = 95 x "r" + NUL
      `);
      expect(decodeFrame(disconnect)).to.deep.equal(
        E.right({ type: 'disconnect', code: 0xffffffff, reason: 'r'.repeat(95) }),
      );
    });
  });

  describe('bytes that carry no meaning', () => {
    it('ignores padding after the payload and bytes after the NUL inside a field', () => {
      const noisy = hex(`
        07 00                                       @0  CONNECTED
        6d 65 6d 69 66 30 2f 30 00                  @2  if_name = "memif0/0" + NUL
        41 42 43 ff fe 80*18                        @11 junk after the NUL, inside the field
        aa*94                                       @34 junk padding to the end of the frame
      `);
      expect(decodeFrame(noisy)).to.deep.equal(
        E.right({ type: 'connected', interfaceName: 'memif0/0' }),
      );
      const ack = hex(`
        01 00                                       @0  ACK
        ff*126                                      @2  junk
      `);
      expect(decodeFrame(ack)).to.deep.equal(E.right({ type: 'ack' }));
    });

    it('keeps a leading U+FEFF (UTF-8 BOM) in a name instead of stripping it', () => {
      const frame = hex(`
        06 00                                       @0  CONNECT
        ef bb bf 61                                 @2  if_name = U+FEFF "a"
      `);
      expect(decodeFrame(frame)).to.deep.equal(
        E.right({ type: 'connect', interfaceName: '\ufeffa' }),
      );
    });
  });
});
