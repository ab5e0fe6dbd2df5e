/**
 * A tiny layer-2 protocol, the subject of the two testing examples (testing-marbles.spec.ts and
 * testing-pair.spec.ts). On EtherType 0x88b5 (IEEE local experimental), the first payload byte
 * is the message kind:
 *
 * - HELLO (0x00): broadcast by the responder each time its link comes up;
 * - PING (0x01) + data: a request, to the responder's MAC or broadcast;
 * - PONG (0x02) + the same data: the answer, sent back to the pinger.
 *
 * Everything else is ignored. The responder works on any `MemifInterface`: a real one in
 * production, a virtual one in marble tests.
 */
import { filter, map, merge } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { MemifInterface } from '../src/index'; // in your project: from 'rx-memif'

export const ETHERTYPE = 0x88b5;
export const HELLO = 0x00;
export const PING = 0x01;
export const PONG = 0x02;

const BROADCAST = new Uint8Array(6).fill(0xff);
const HEADER = 14;

const macBytes = (mac: string): Uint8Array =>
  Uint8Array.from(mac.split(':'), (b) => parseInt(b, 16));

const sameMac = (frame: Uint8Array, at: number, mac: Uint8Array): boolean =>
  mac.every((b, i) => frame[at + i] === b);

const message = (dst: Uint8Array, src: Uint8Array, kind: number, data: Uint8Array): Uint8Array => {
  const f = new Uint8Array(HEADER + 1 + data.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = ETHERTYPE >> 8;
  f[13] = ETHERTYPE & 0xff;
  f[HEADER] = kind;
  f.set(data, HEADER + 1);
  return f;
};

/** Whether `frame` is a PING for `mac` (to it or broadcast). */
export const isPingFor = (frame: Uint8Array, mac: Uint8Array): boolean =>
  frame.length > HEADER &&
  frame[12] === ETHERTYPE >> 8 &&
  frame[13] === (ETHERTYPE & 0xff) &&
  frame[HEADER] === PING &&
  (sameMac(frame, 0, mac) || sameMac(frame, 0, BROADCAST));

/**
 * Runs the responder on `iface` (queue 0) with the MAC `mac` until the returned subscription
 * is unsubscribed or the interface closes.
 */
export const respond = (iface: MemifInterface, mac: string): Subscription => {
  const me = macBytes(mac);
  const hellos = iface.state$.pipe(
    filter((s) => s.status === 'connected'),
    map(() => message(BROADCAST, me, HELLO, new Uint8Array(0))),
  );
  const pongs = iface.rx().pipe(
    filter((f) => isPingFor(f, me)),
    map((f) => message(f.subarray(6, 12), me, PONG, f.subarray(HEADER + 1))),
  );
  return merge(hellos, pongs).subscribe(iface.tx());
};
