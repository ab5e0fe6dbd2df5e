/**
 * The frames `rx-memif gen` sends: an Ethernet header (EtherType 0x88b5, local experimental),
 * then at byte 14 a magic, the run id, the sequence number and the frame size, then a filler: a
 * slice of a fixed pseudo-random pattern at an offset derived from the sequence number. A single
 * changed byte anywhere from byte 12 on is caught (a reflecting peer may swap the MAC addresses,
 * so bytes 0..11 are not checked). Writing the filler is one memcpy, checking it one memcmp:
 * fast enough for a soak of 10^8 frames of up to 9000 bytes.
 */

import { Burst } from '../streams/burst';

export const GEN_ETHERTYPE = 0x88b5;
const MAGIC = 0x52584d46; // "RXMF"
export const MIN_GEN_SIZE = 34;
export const MAX_GEN_SIZE = 262144;

/** The pattern repeats every PERIOD bytes; a slice starts at one of PERIOD offsets. */
const PERIOD = 65536;
let patternBuffer: Buffer | undefined;

/**
 * PERIOD bytes of a fixed-seed PRNG (mulberry32), repeated to PERIOD + MAX_GEN_SIZE bytes so that
 * the filler of any frame is one contiguous slice. Made on first use (the CLI's other commands
 * do not need it).
 */
const pattern = (): Buffer => {
  if (patternBuffer) return patternBuffer;
  const p = Buffer.allocUnsafe(PERIOD + MAX_GEN_SIZE);
  let state = 0x1badf00d;
  for (let i = 0; i < PERIOD; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    p[i] = (t ^ (t >>> 14)) & 0xff;
  }
  for (let at = PERIOD; at < p.length; at += PERIOD) p.copy(p, at, 0, PERIOD);
  patternBuffer = p;
  return p;
};

/** A 32-bit mix of a sequence number (up to 2^53) and a salt (murmur3's finalizer). */
const mix = (seq: number, salt: number): number => {
  let h = (seq >>> 0) ^ Math.imul(Math.floor(seq / 2 ** 32), 0x9e3779b1) ^ salt;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * Where frame `seq`'s filler starts in the pattern: hashed, so that a frame whose sequence number
 * was changed carries the wrong filler (but for 1 in 65536).
 */
const fillerAt = (seq: number): number => mix(seq, 0x5eed) & (PERIOD - 1);

/** The size of frame `seq` in a run of sizes `min..max`: uniform, and the same in every run. */
export const genSize = (seq: number, min: number, max: number): number =>
  min === max ? min : min + Math.floor((mix(seq, 0x512e) / 2 ** 32) * (max - min + 1));

export const parseMac = (mac: string): number[] => mac.split(':').map((h) => parseInt(h, 16));

/**
 * Fillers up to this many bytes are copied and compared in words through DataViews: for a
 * 64-byte frame's 30 bytes that is cheaper than the native call of `Buffer.copy` or `compare`
 * (docs/tuning.md, "rx-memif gen").
 */
const LOOP_BYTES = 128;

let patternView: DataView | undefined;
const patternDataView = (): DataView => {
  if (patternView) return patternView;
  const p = pattern();
  patternView = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return patternView;
};

/**
 * A DataView of `d` (the whole array): the last one made, when `d` is the same array as last
 * time (a burst's data, a pool), held weakly so that it keeps no memory alive.
 */
let lastArray: WeakRef<Uint8Array> | undefined;
let lastView: WeakRef<DataView> | undefined;
const viewOf = (d: Uint8Array): DataView => {
  const cached = lastArray?.deref() === d ? lastView?.deref() : undefined;
  if (cached !== undefined && cached.byteLength === d.byteLength) return cached;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  lastArray = new WeakRef(d);
  lastView = new WeakRef(v);
  return v;
};

/*
 * The short filler is copied and compared in little-endian words, two per step, and a tail
 * without a loop: about 80 % of the time of big-endian words and a byte loop (docs/tuning.md,
 * "rx-memif gen"). Any word order moves and compares the same bytes.
 */

/** Copies `n` bytes (at most {@link LOOP_BYTES}) of the pattern from `from` to `at` in `v`. */
const copyShort = (v: DataView, at: number, p: DataView, from: number, n: number): void => {
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    v.setUint32(at + k, p.getUint32(from + k, true), true);
    v.setUint32(at + k + 4, p.getUint32(from + k + 4, true), true);
  }
  if (k + 4 <= n) {
    v.setUint32(at + k, p.getUint32(from + k, true), true);
    k += 4;
  }
  if (k + 2 <= n) {
    v.setUint16(at + k, p.getUint16(from + k, true), true);
    k += 2;
  }
  if (k < n) v.setUint8(at + k, p.getUint8(from + k));
};

/** Whether `v` holds at `at` the `n` bytes (at most {@link LOOP_BYTES}) of the pattern at `from`. */
const equalShort = (v: DataView, at: number, p: DataView, from: number, n: number): boolean => {
  // The differences are or-ed, with one branch at the end: an intact frame is the common case.
  let diff = 0;
  let k = 0;
  for (; k + 8 <= n; k += 8)
    diff |=
      (v.getUint32(at + k, true) ^ p.getUint32(from + k, true)) |
      (v.getUint32(at + k + 4, true) ^ p.getUint32(from + k + 4, true));
  if (k + 4 <= n) {
    diff |= v.getUint32(at + k, true) ^ p.getUint32(from + k, true);
    k += 4;
  }
  if (k + 2 <= n) {
    diff |= v.getUint16(at + k, true) ^ p.getUint16(from + k, true);
    k += 2;
  }
  if (k < n) diff |= v.getUint8(at + k) ^ p.getUint8(from + k);
  return diff === 0;
};

/** Writes the filler of frame `seq` (`n` bytes) at `d[at..]` (`v` a DataView of `d`). */
const putFiller = (d: Uint8Array, v: DataView, at: number, seq: number, n: number): void => {
  const from = fillerAt(seq);
  if (n <= LOOP_BYTES) copyShort(v, at, patternDataView(), from, n);
  else pattern().copy(d, at, from, from + n);
};

/** Writes the fields of frame `seq` that change from frame to frame: sequence, size, filler. */
const putVariable = (d: Uint8Array, v: DataView, at: number, size: number, seq: number): void => {
  v.setUint32(at + 22, Math.floor(seq / 2 ** 32));
  v.setUint32(at + 26, seq >>> 0);
  v.setUint32(at + 30, size);
  putFiller(d, v, at + MIN_GEN_SIZE, seq, size - MIN_GEN_SIZE);
};

/** Writes the fields that are the same in every frame of a run (bytes 0..21) at `d[at..]`. */
const putTemplate = (
  d: Uint8Array,
  v: DataView,
  at: number,
  runId: number,
  src: readonly number[],
): void => {
  d.fill(0xff, at, at + 6); // broadcast: any peer in any mode takes it
  for (let i = 0; i < 6; i++) d[at + 6 + i] = src[i];
  v.setUint16(at + 12, GEN_ETHERTYPE);
  v.setUint32(at + 14, MAGIC);
  v.setUint32(at + 18, runId);
};

/** Writes frame `seq` of `size` bytes at `frame[at..]` (which must hold them); no allocation. */
export const writeGenFrame = (
  frame: Uint8Array,
  size: number,
  seq: number,
  runId: number,
  src: readonly number[],
  at = 0,
): void => {
  if (at + size > frame.length) {
    // Only what fits (a short buffer): through a scratch frame.
    if (at >= frame.length) return;
    const whole = new Uint8Array(size);
    writeGenFrame(whole, size, seq, runId, src);
    frame.set(whole.subarray(0, Math.max(0, frame.length - at)), at);
    return;
  }
  const v = viewOf(frame);
  putTemplate(frame, v, at, runId, src);
  putVariable(frame, v, at, size, seq);
};

/**
 * A reused pool of gen frames for a run, written a batch at a time as a {@link Burst} for
 * `txBursts` (one native call, no staging copy). Slot `i` lies at `i * maxSize`; the bytes that
 * are the same in every frame (MACs, EtherType, magic, run id) are written once, so a frame costs
 * its sequence number, size and filler only. The caller rewrites the pool only once the last
 * batch left it (`txReady$`): a backlog may still hold views of it.
 */
export class GenBatch {
  readonly data: Uint8Array;
  private readonly view: DataView;
  private readonly offsets: Uint32Array;
  private readonly lengths: Uint32Array;
  /** The burst of all the slots, reused when a batch fills the pool. */
  private readonly full: Burst;

  constructor(
    readonly capacity: number,
    private readonly maxSize: number,
    private readonly min: number,
    runId: number,
    src: readonly number[],
  ) {
    this.data = new Uint8Array(capacity * maxSize);
    this.view = new DataView(this.data.buffer);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    for (let i = 0; i < capacity; i++) {
      this.offsets[i] = i * maxSize;
      putTemplate(this.data, this.view, i * maxSize, runId, src);
    }
    this.full = new Burst(0, capacity, this.data, this.offsets, this.lengths);
  }

  /** Writes frames `seq .. seq + n - 1` (n ≤ capacity) into the first `n` slots. */
  fill(n: number, seq: number): Burst {
    const { data, view, offsets, lengths, min, maxSize } = this;
    for (let i = 0; i < n; i++) {
      const size = min === maxSize ? min : genSize(seq + i, min, maxSize);
      putVariable(data, view, offsets[i], size, seq + i);
      lengths[i] = size;
    }
    return n === this.capacity
      ? this.full
      : new Burst(0, n, data, offsets.subarray(0, n), lengths.subarray(0, n));
  }
}

/** True when the frame at `at` (of `length` bytes) starts like a gen frame (EtherType, magic). */
const isGen = (v: DataView, at: number, length: number): boolean =>
  length >= MIN_GEN_SIZE &&
  v.getUint16(at + 12) === GEN_ETHERTYPE &&
  v.getUint32(at + 14) === MAGIC;

const seqAt = (v: DataView, at: number): number =>
  v.getUint32(at + 22) * 2 ** 32 + v.getUint32(at + 26);

/** True when the size field and the filler match the frame's length and sequence number. */
const intact = (d: Uint8Array, v: DataView, at: number, length: number, seq: number): boolean => {
  if (v.getUint32(at + 30) !== length) return false;
  const from = fillerAt(seq);
  const n = length - MIN_GEN_SIZE;
  const base = at + MIN_GEN_SIZE;
  return n <= LOOP_BYTES
    ? equalShort(v, base, patternDataView(), from, n)
    : pattern().compare(d, base, at + length, from, from + n) === 0;
};

export type Verdict = { kind: 'ok'; seq: number } | { kind: 'foreign' } | { kind: 'corrupt' };

/** {@link checkGenAt}: not a gen frame of this run. */
export const FOREIGN = -1;
/** {@link checkGenAt}: a gen frame of this run whose size field or filler is wrong. */
export const CORRUPT = -2;

/** Reads the frame at `d[at .. at + length)`: -1 when it is no gen frame, else its run id. */
const runIdOf = (d: Uint8Array, v: DataView, at: number, length: number): number =>
  isGen(v, at, length) ? v.getUint32(at + 18) : -1;

/**
 * Checks the returned frame at `d[at .. at + length)` from byte 12 on, with no object made: its
 * sequence number when intact, else {@link FOREIGN} or {@link CORRUPT}. `v`, a DataView of the
 * whole of `d`, may be given by a caller that checks many frames of the same `d` (a burst).
 */
export const checkGenAt = (
  d: Uint8Array,
  at: number,
  length: number,
  runId: number,
  v?: DataView,
): number => {
  if (length < MIN_GEN_SIZE || at + length > d.length) return FOREIGN;
  const view = v ?? viewOf(d);
  if (runIdOf(d, view, at, length) !== runId) return FOREIGN;
  const seq = seqAt(view, at);
  return intact(d, view, at, length, seq) ? seq : CORRUPT;
};

/** Checks a returned frame from byte 12 on. `foreign` = not one of this run's frames. */
export const checkGenFrame = (frame: Uint8Array, runId: number): Verdict => {
  const seq = checkGenAt(frame, 0, frame.length, runId);
  if (seq === FOREIGN) return { kind: 'foreign' };
  return seq === CORRUPT ? { kind: 'corrupt' } : { kind: 'ok', seq };
};

/** What {@link SequenceCheck} found. */
export interface SequenceTally {
  /** Intact frames that came in sequence (after any gap). */
  received: number;
  /** Sequence numbers skipped (never seen before a later one). */
  lost: number;
  /** Frames whose size field or filler did not match. */
  corrupt: number;
  /** Intact frames with a sequence number below the next expected one: duplicates, late. */
  outOfOrder: number;
  /** Frames that are not gen frames, or of another run. */
  foreign: number;
  /** Bytes of the intact frames. */
  bytes: number;
}

/**
 * Checks a stream of gen frames as `rx-memif sink --check` receives them: the run id is taken
 * from the first gen frame, and on each queue sequence numbers must run 0, 1, 2, ... without a
 * gap. Allocates nothing per frame.
 */
export class SequenceCheck {
  readonly tally: SequenceTally = {
    received: 0,
    lost: 0,
    corrupt: 0,
    outOfOrder: 0,
    foreign: 0,
    bytes: 0,
  };
  /** The run id, once a gen frame was seen. */
  runId: number | undefined;
  /** Next expected sequence number, by queue. */
  private readonly next: number[] = [];

  /**
   * Frames accounted for: every sequence number below the next expected one was received intact,
   * received corrupt or counted lost.
   */
  get accounted(): number {
    let n = 0;
    for (const v of this.next) n += v ?? 0;
    return n;
  }

  /** Checks the frame at `data[at .. at + length)`, received on `queue`. */
  take(data: Uint8Array, at: number, length: number, queue = 0): void {
    const t = this.tally;
    const v = length >= MIN_GEN_SIZE && at + length <= data.length ? viewOf(data) : undefined;
    const runId = v === undefined ? -1 : runIdOf(data, v, at, length);
    if (v === undefined || runId < 0) {
      t.foreign++;
      return;
    }
    if (this.runId === undefined) this.runId = runId;
    else if (runId !== this.runId) {
      t.foreign++;
      return;
    }
    const seq = seqAt(v, at);
    const expected = this.next[queue] ?? 0;
    if (!intact(data, v, at, length, seq)) {
      t.corrupt++;
      // Damage to the payload takes its place in the sequence; a damaged sequence number is
      // not trusted (the next intact frame then shows the gap).
      if (seq === expected) this.next[queue] = expected + 1;
      return;
    }
    if (seq < expected) {
      t.outOfOrder++;
      return;
    }
    t.lost += seq - expected;
    t.received++;
    t.bytes += length;
    this.next[queue] = seq + 1;
  }

  /** At the end of a run of `count` frames: whatever was not accounted for is lost. */
  finish(count: number | undefined): SequenceTally {
    if (count !== undefined) this.tally.lost += Math.max(0, count - this.accounted);
    return this.tally;
  }
}

/** Swaps destination and source MAC addresses in place. */
export const swapMac = (frame: Uint8Array): void => {
  for (let i = 0; i < 6; i++) {
    const t = frame[i];
    frame[i] = frame[i + 6];
    frame[i + 6] = t;
  }
};
