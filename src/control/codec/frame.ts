import { endianness } from 'node:os';
import { FRAME_SIZE } from '../messages';

/** memif is host-endian (both peers share the machine), so follow the host once. */
const LITTLE_ENDIAN = endianness() === 'LE';

// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: keep a leading U+FEFF so it round-trips.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Why a NUL-terminated string field could not be read. */
export type StringFieldProblem = 'no-nul' | 'bad-utf8';

/** Reads fields at absolute offsets of one 128-byte frame. */
export class FrameReader {
  private readonly view: DataView;

  constructor(private readonly frame: Uint8Array) {
    // The frame may be a view into a larger buffer (a pooled Buffer), so honour byteOffset.
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, LITTLE_ENDIAN);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, LITTLE_ENDIAN);
  }

  u64(offset: number): bigint {
    return this.view.getBigUint64(offset, LITTLE_ENDIAN);
  }

  /** The `size` bytes at `offset` (a view, not a copy). */
  bytes(offset: number, size: number): Uint8Array {
    return this.frame.subarray(offset, offset + size);
  }

  /** The UTF-8 text before the first NUL of a `size`-byte field; bytes after the NUL are ignored. */
  cString(offset: number, size: number): string | StringFieldProblem {
    const field = this.bytes(offset, size);
    const end = field.indexOf(0);
    if (end < 0) return 'no-nul';
    try {
      return utf8Decoder.decode(field.subarray(0, end));
    } catch {
      return 'bad-utf8';
    }
  }
}

/** Builds one zero-filled 128-byte frame; unused bytes stay zero. */
export class FrameWriter {
  readonly bytes = new Uint8Array(FRAME_SIZE);
  private readonly view = new DataView(this.bytes.buffer);

  constructor(type: number) {
    this.u16(0, type);
  }

  u8(offset: number, value: number): this {
    this.view.setUint8(offset, value);
    return this;
  }

  u16(offset: number, value: number): this {
    this.view.setUint16(offset, value, LITTLE_ENDIAN);
    return this;
  }

  u32(offset: number, value: number): this {
    this.view.setUint32(offset, value, LITTLE_ENDIAN);
    return this;
  }

  u64(offset: number, value: bigint): this {
    this.view.setBigUint64(offset, value, LITTLE_ENDIAN);
    return this;
  }

  /** Writes the UTF-8 text; the NUL after it comes from the zero fill. */
  cString(offset: number, size: number, value: string): this {
    const encoded = utf8Encoder.encode(value);
    // The brands keep this from happening; refuse rather than send a field without its NUL.
    if (encoded.length >= size) {
      throw new RangeError(`${encoded.length}-byte string does not fit a ${size}-byte field`);
    }
    this.bytes.set(encoded, offset);
    return this;
  }
}
