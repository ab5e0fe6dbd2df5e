import * as fs from 'node:fs';
import { clearImmediate, setImmediate } from 'node:timers';
import { encodeGlobalHeader, PCAP_SNAPLEN, RECORD_HEADER_LENGTH } from './pcap-format';

const CHUNK = 1 << 20;

/**
 * Writes pcap records to a file descriptor it owns, batched: records gather in a 1 MiB buffer
 * written with one `fs.writeSync` when full, or once per macrotask (`setImmediate`) — a whole
 * rx burst costs one system call — and on {@link close}. Not exported from the package.
 */
export class PcapWriter {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private pending: NodeJS.Immediate | undefined;
  private fd: number | undefined;
  /** Set when a scheduled flush failed; thrown by the next {@link write}. */
  private failure: unknown;

  /** Opens (truncates) the file and writes the global header. Throws what `openSync` throws. */
  constructor(
    path: string,
    linkType: number,
    private readonly now: () => number,
  ) {
    this.fd = fs.openSync(path, 'w');
    encodeGlobalHeader(linkType).copy(this.buf, 0);
    this.used = 24;
  }

  /** Adds a record (at most the snap length of data) stamped `now()`. Throws on a write error. */
  write(packet: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    const caplen = Math.min(packet.length, PCAP_SNAPLEN);
    if (this.used + RECORD_HEADER_LENGTH + caplen > CHUNK) this.flush();
    const us = Math.round(this.now() * 1000);
    const sec = Math.floor(us / 1e6);
    const usec = us - sec * 1e6;
    const b = this.buf;
    b.writeUInt32LE(sec >>> 0, this.used);
    b.writeUInt32LE(usec, this.used + 4);
    b.writeUInt32LE(caplen, this.used + 8);
    b.writeUInt32LE(packet.length, this.used + 12);
    this.used += RECORD_HEADER_LENGTH;
    b.set(packet.subarray(0, caplen), this.used);
    this.used += caplen;
    this.pending ??= setImmediate(() => {
      this.pending = undefined;
      try {
        this.flush();
      } catch (err) {
        this.failure = err;
      }
    });
  }

  /** Writes what is buffered. */
  flush(): void {
    let off = 0;
    while (off < this.used && this.fd !== undefined)
      off += fs.writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  /**
   * Flushes (unless `discard`) and closes the file; the descriptor is closed even if that throws
   * (a failed background flush is thrown here too).
   */
  close(discard = false): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    const fd = this.fd;
    if (fd === undefined) return;
    try {
      if (this.failure !== undefined) throw this.failure;
      if (!discard) this.flush();
    } finally {
      this.fd = undefined;
      fs.closeSync(fd);
    }
  }
}
