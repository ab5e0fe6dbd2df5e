import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { LINKTYPE } from './pcap-format';
import { PcapWriter } from './pcap-writer';

/** Options of {@link toPcap}. */
export interface ToPcapOptions {
  /** `'ethernet'` (link type 1, default) or `'raw'` (101, raw IP: memif `ip` mode). */
  readonly linkType?: 'ethernet' | 'raw';
  /** Clock for the timestamps, in ms since the epoch (fractions kept to the µs). */
  readonly now?: () => number;
}

const preciseNow = (): number => performance.timeOrigin + performance.now();

/** Closes the writer; returns what closing threw, if anything. */
const closing = (writer: PcapWriter, discard = false): unknown => {
  try {
    writer.close(discard);
    return undefined;
  } catch (err) {
    return err;
  }
};

/**
 * Writes each packet passing through to a classic pcap file (µs timestamps, version 2.4, snap
 * length 262144) and passes it on unchanged. The file is created (truncated) at subscription —
 * each subscription writes its own — with writes batched (one `writeSync` per macrotask or per
 * MiB) and flushed and closed on complete, error or unsubscribe. A failure to open or write the
 * file errors the stream.
 * @example
 * iface.rx().pipe(toPcap('rx.pcap'), icmpResponder(opts)).subscribe(iface.tx());
 */
export const toPcap =
  (path: string, options: ToPcapOptions = {}): MonoTypeOperatorFunction<Uint8Array> =>
  (source) =>
    new Observable<Uint8Array>((subscriber) => {
      const linkType = LINKTYPE[options.linkType ?? 'ethernet'];
      const writer = new PcapWriter(path, linkType, options.now ?? preciseNow);
      const sub = source.subscribe({
        next: (packet) => {
          try {
            writer.write(packet);
          } catch (err) {
            closing(writer, true);
            subscriber.error(err);
            return;
          }
          subscriber.next(packet);
        },
        error: (err) => {
          closing(writer); // the source's error is the one to report
          subscriber.error(err);
        },
        complete: () => {
          const err = closing(writer);
          if (err === undefined) subscriber.complete();
          else subscriber.error(err);
        },
      });
      return () => {
        sub.unsubscribe();
        closing(writer); // nothing to report to any more; the descriptor is closed anyway
      };
    });
