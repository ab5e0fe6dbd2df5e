/**
 * The frames `rx-memif gen` sends: an Ethernet header (EtherType 0x88b5, local experimental),
 * then at byte 14 a magic, the run id, the sequence number and the frame size, then a filler
 * derived from the sequence number, so that a single changed byte anywhere from byte 12 on is
 * caught (a reflecting peer may swap the MAC addresses, so bytes 0..11 are not checked).
 */

export const GEN_ETHERTYPE = 0x88b5;
const MAGIC = 0x52584d46; // "RXMF"
export const MIN_GEN_SIZE = 34;

const fillByte = (seq: number, i: number): number => (seq * 31 + i * 7 + (seq >>> 8)) & 0xff;

export const parseMac = (mac: string): number[] => mac.split(':').map((h) => parseInt(h, 16));

/** Writes frame `seq` of `size` bytes into `frame` (which must be at least `size` long). */
export const writeGenFrame = (
  frame: Uint8Array,
  size: number,
  seq: number,
  runId: number,
  src: readonly number[],
): void => {
  const view = new DataView(frame.buffer, frame.byteOffset, size);
  frame.fill(0xff, 0, 6); // broadcast: any peer in any mode takes it
  frame.set(src, 6);
  view.setUint16(12, GEN_ETHERTYPE);
  view.setUint32(14, MAGIC);
  view.setUint32(18, runId);
  view.setUint32(22, Math.floor(seq / 2 ** 32));
  view.setUint32(26, seq >>> 0);
  view.setUint32(30, size);
  for (let i = MIN_GEN_SIZE; i < size; i++) frame[i] = fillByte(seq, i);
};

export type Verdict = { kind: 'ok'; seq: number } | { kind: 'foreign' } | { kind: 'corrupt' };

/** Checks a returned frame from byte 12 on. `foreign` = not one of this run's frames. */
export const checkGenFrame = (frame: Uint8Array, runId: number): Verdict => {
  if (frame.length < MIN_GEN_SIZE) return { kind: 'foreign' };
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (view.getUint16(12) !== GEN_ETHERTYPE || view.getUint32(14) !== MAGIC)
    return { kind: 'foreign' };
  if (view.getUint32(18) !== runId) return { kind: 'foreign' };
  const seq = view.getUint32(22) * 2 ** 32 + view.getUint32(26);
  if (view.getUint32(30) !== frame.length) return { kind: 'corrupt' };
  for (let i = MIN_GEN_SIZE; i < frame.length; i++)
    if (frame[i] !== fillByte(seq, i)) return { kind: 'corrupt' };
  return { kind: 'ok', seq };
};

/** Swaps destination and source MAC addresses in place. */
export const swapMac = (frame: Uint8Array): void => {
  for (let i = 0; i < 6; i++) {
    const t = frame[i];
    frame[i] = frame[i + 6];
    frame[i + 6] = t;
  }
};
