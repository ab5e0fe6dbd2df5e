/**
 * The classic libpcap file format: a 24-byte global header, then per packet a 16-byte record
 * header (seconds, microseconds or nanoseconds, captured length, original length) and the bytes.
 * Fields are in the writer's byte order, which the magic number tells.
 */

/** Magic of microsecond files (read in the file's byte order). */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Magic of nanosecond files. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Snap length written by {@link toPcap}. */
export const PCAP_SNAPLEN = 262144;
/** Link types: 1 Ethernet, 101 raw IP (LINKTYPE_RAW). */
export const LINKTYPE = { ethernet: 1, raw: 101 } as const;
/** Size of the global header. */
export const GLOBAL_HEADER_LENGTH = 24;
/** Size of a record header. */
export const RECORD_HEADER_LENGTH = 16;

/** What the global header says. */
export interface PcapHeader {
  readonly littleEndian: boolean;
  /** Whether timestamps' fraction is in nanoseconds (else microseconds). */
  readonly nanoseconds: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snaplen: number;
  readonly linkType: number;
}

/** The global header of a little-endian microsecond file, version 2.4. */
export const encodeGlobalHeader = (linkType: number, snaplen = PCAP_SNAPLEN): Buffer => {
  const b = Buffer.alloc(GLOBAL_HEADER_LENGTH);
  b.writeUInt32LE(PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  // thiszone 0, sigfigs 0
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linkType, 20);
  return b;
};

/** Decodes a global header; a string says why it is not one. */
export const decodeGlobalHeader = (b: Uint8Array): PcapHeader | string => {
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  const littleEndian = le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS;
  if (!littleEndian && be !== PCAP_MAGIC_US && be !== PCAP_MAGIC_NS) {
    if (le === 0x0a0d0d0a) return 'a pcapng file (only classic pcap is read)';
    return `bad magic 0x${be.toString(16).padStart(8, '0')}`;
  }
  const magic = littleEndian ? le : be;
  return {
    littleEndian,
    nanoseconds: magic === PCAP_MAGIC_NS,
    versionMajor: view.getUint16(4, littleEndian),
    versionMinor: view.getUint16(6, littleEndian),
    snaplen: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian) & 0xffff,
  };
};

/** A pcap file that cannot be read: not pcap, an unknown version, or cut short. */
export class PcapFormatError extends Error {
  override readonly name = 'PcapFormatError';
}
