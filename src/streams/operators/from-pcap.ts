import * as fs from 'node:fs';
import { map, Observable } from 'rxjs';
import {
  decodeGlobalHeader,
  GLOBAL_HEADER_LENGTH,
  PcapFormatError,
  PCAP_SNAPLEN,
  RECORD_HEADER_LENGTH,
  type PcapHeader,
} from './pcap-format';

/** One packet of a pcap file. */
export interface PcapRecord {
  /** The captured bytes (a view over the read chunk; never reused). */
  readonly data: Uint8Array;
  /** Timestamp: seconds since the epoch… */
  readonly seconds: number;
  /** …and nanoseconds (µs files give multiples of 1000). */
  readonly nanoseconds: number;
  /** Length on the wire (more than `data.length` if the capture was cut at the snap length). */
  readonly originalLength: number;
  /** The file's link type (1 Ethernet, 101 raw IP…). */
  readonly linkType: number;
}

/** Options of {@link fromPcapRecords}. */
export interface FromPcapOptions {
  /** Bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
}

/**
 * Replays a classic pcap file (either byte order, µs or ns magic) as its records, read in chunks
 * with asynchronous reads; the records of a chunk are emitted synchronously. Completes at the
 * end of the file; errors with a {@link PcapFormatError} naming the file, the record and the
 * byte offset if the file is not pcap or ends inside a record. Unsubscribing stops the reads
 * and closes the file.
 * @example
 * fromPcapRecords('in.pcap').subscribe((r) => console.log(r.seconds, r.data.length));
 */
export const fromPcapRecords = (
  path: string,
  options: FromPcapOptions = {},
): Observable<PcapRecord> =>
  new Observable<PcapRecord>((subscriber) => {
    const chunkSize = options.chunkSize ?? 1 << 20;
    let fd: number | undefined;
    let reading = false;
    let done = false;
    let header: PcapHeader | undefined;
    let left: Uint8Array = new Uint8Array(0); // bytes read but not consumed, from file offset `offset`
    let offset = 0;
    let index = 0;
    let need = GLOBAL_HEADER_LENGTH;

    const close = (): void => {
      done = true;
      if (fd !== undefined && !reading) fs.close(fd, () => undefined);
      if (!reading) fd = undefined;
    };
    const fail = (err: unknown): void => {
      close();
      subscriber.error(err);
    };
    const bad = (msg: string): false => {
      fail(new PcapFormatError(`${path}: ${msg}`));
      return false;
    };

    /** Emits the whole records of `data`; keeps the rest in `left`. False after an error. */
    const consume = (data: Uint8Array): boolean => {
      let at = 0;
      if (!header) {
        left = data;
        if (data.length < GLOBAL_HEADER_LENGTH) return true;
        const h = decodeGlobalHeader(data);
        if (typeof h === 'string') return bad(h);
        if (h.versionMajor !== 2)
          return bad(`unsupported version ${h.versionMajor}.${h.versionMinor}`);
        header = h;
        at = GLOBAL_HEADER_LENGTH;
      }
      const { littleEndian: le, nanoseconds, linkType } = header;
      const view = new DataView(data.buffer, data.byteOffset, data.length);
      const max = Math.max(header.snaplen, PCAP_SNAPLEN);
      while (!subscriber.closed && data.length - at >= RECORD_HEADER_LENGTH) {
        const caplen = view.getUint32(at + 8, le);
        if (caplen > max)
          return bad(
            `record ${index} at byte ${offset + at}: captured length ${caplen} over ${max}`,
          );
        need = RECORD_HEADER_LENGTH + caplen;
        if (data.length - at < need) break;
        const frac = view.getUint32(at + 4, le);
        subscriber.next({
          data: data.subarray(at + RECORD_HEADER_LENGTH, at + need),
          seconds: view.getUint32(at, le),
          nanoseconds: nanoseconds ? frac : frac * 1000,
          originalLength: view.getUint32(at + 12, le),
          linkType,
        });
        at += need;
        index++;
        need = RECORD_HEADER_LENGTH;
      }
      left = data.subarray(at);
      offset += at;
      return true;
    };

    const truncated = (): string =>
      !header && left.length === 0
        ? 'empty file (no pcap header)'
        : !header
          ? `truncated global header (${left.length} of ${GLOBAL_HEADER_LENGTH} bytes)`
          : `truncated record ${index} at byte ${offset}: ${left.length} of ${
              left.length < RECORD_HEADER_LENGTH
                ? `${RECORD_HEADER_LENGTH} header`
                : `${need} record`
            } bytes`;

    const step = (): void => {
      const size = Math.max(chunkSize, need - left.length);
      const buf = new Uint8Array(left.length + size);
      buf.set(left);
      reading = true;
      fs.read(fd as number, buf, left.length, size, null, (err, n) => {
        reading = false;
        if (done) return close();
        if (err) return fail(err);
        if (!consume(buf.subarray(0, left.length + n)) || subscriber.closed) return;
        if (n > 0) return step();
        close();
        if (left.length > 0 || !header) bad(truncated());
        else subscriber.complete();
      });
    };

    fs.open(path, 'r', (err, opened) => {
      if (err) return subscriber.error(err);
      fd = opened;
      if (done) return close();
      step();
    });
    return close;
  });

/**
 * Replays a pcap file as its packets (see {@link fromPcapRecords}).
 * @example
 * fromPcap('capture.pcap').subscribe(iface.tx());
 */
export const fromPcap = (path: string, options?: FromPcapOptions): Observable<Uint8Array> =>
  fromPcapRecords(path, options).pipe(map((r) => r.data));
