import * as fs from 'node:fs';
import { MEMIF_COOKIE, ringBytes, ringHeaderLayout } from '../../src/control/layout';
import type { NativeBinding, NativeEventFd, NativeRegion } from '../../src/native-bridge/native';
import type { Prng } from './prng';

/**
 * The shared memory of the hostile-ring campaign (test/hardening/hostile-ring.spec.ts): two
 * regions laid out like a libmemif/VPP mix, each followed by unmapped address space so that a
 * read one byte past a region's end faults instead of landing in a neighbouring mapping.
 *
 * Region 0: S2M ring, M2S ring, S2M slot buffers, M2S slot buffers (the client's offers), then a
 * static zone up to the very end. Region 1: S2M slot buffers, then a static zone. Static zones
 * and the idle ring are never written during a campaign, so a descriptor pointing there has
 * known content.
 */

const LE = true;
/** Region sizes are multiples of this (4 KiB pages here, up to 64 KiB on some arm64 kernels). */
const GRAIN = 65536;
export const STATIC_ZONE = 65536;

export interface Desc {
  flags: number;
  region: number;
  length: number;
  offset: number;
}

/** A ring header and its descriptors, seen from outside as a peer sees them. */
export class RingAccess {
  private readonly view: DataView;
  private readonly hdr: ReturnType<typeof ringHeaderLayout>;
  readonly mask: number;

  constructor(
    region: NativeRegion,
    readonly offset: number,
    cacheLineSize: number,
    readonly log2: number,
  ) {
    this.view = new DataView(region.buffer, offset, ringBytes(cacheLineSize, log2));
    this.hdr = ringHeaderLayout(cacheLineSize);
    this.mask = (1 << log2) - 1;
  }

  get head(): number {
    return this.view.getUint16(this.hdr.head, LE);
  }
  set head(v: number) {
    this.view.setUint16(this.hdr.head, v & 0xffff, LE);
  }
  get tail(): number {
    return this.view.getUint16(this.hdr.tail, LE);
  }
  set tail(v: number) {
    this.view.setUint16(this.hdr.tail, v & 0xffff, LE);
  }

  init(index: number): void {
    this.view.setUint32(this.hdr.cookie, MEMIF_COOKIE, LE);
    this.view.setUint16(this.hdr.flags, 0, LE);
    this.head = index;
    this.tail = index;
  }

  private at(index: number): number {
    return this.hdr.descriptors + 16 * (index & this.mask);
  }

  read(index: number): Desc & { metadata: number } {
    const d = this.at(index);
    const v = this.view;
    return {
      flags: v.getUint16(d, LE),
      region: v.getUint16(d + 2, LE),
      length: v.getUint32(d + 4, LE),
      offset: v.getUint32(d + 8, LE),
      metadata: v.getUint32(d + 12, LE),
    };
  }

  /** The whole descriptor; `metadata` is junk on purpose (receivers must ignore it). */
  write(index: number, desc: Desc, metadata: number): void {
    const d = this.at(index);
    const v = this.view;
    v.setUint16(d, desc.flags, LE);
    v.setUint16(d + 2, desc.region, LE);
    v.setUint32(d + 4, desc.length, LE);
    v.setUint32(d + 8, desc.offset, LE);
    v.setUint32(d + 12, metadata, LE);
  }

  /** What a well-behaved server writes into a buffer the client offered. */
  writeLengthAndFlags(index: number, length: number, flags: number): void {
    const d = this.at(index);
    this.view.setUint16(d, flags, LE);
    this.view.setUint32(d + 4, length, LE);
  }
}

interface Mapping {
  start: bigint;
  end: bigint;
  line: string;
}

const mappings = (): Mapping[] =>
  fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [start, end] = line.split(' ')[0].split('-');
      return { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), line };
    });

const mappingOf = (all: readonly Mapping[], name: string): number => {
  const i = all.findIndex((m) => m.line.endsWith(`/memfd:${name} (deleted)`));
  if (i < 0) throw new Error(`no mapping for memfd ${name}`);
  return i;
};

/** Unmapped bytes right after the memfd mapping named `name` (0: something is mapped there). */
export const gapAfter = (name: string): number => {
  const all = mappings();
  const i = mappingOf(all, name);
  const next = all[i + 1];
  return next === undefined ? Number.MAX_SAFE_INTEGER : Number(next.start - all[i].end);
};

let regionSerial = 0;

interface Placed {
  region: NativeRegion;
  name: string;
}

/**
 * Regions with a hole after each. mmap hands out addresses top-down: a spacer one grain larger
 * is mapped first and the region lands right below it, unless a higher gap fits the region but
 * not the spacer; such misplaced attempts stay mapped (blocking that gap) until all regions are
 * placed. Closing the spacers then leaves the holes; later mappings that fit in a hole are
 * placed at its top, away from the region.
 */
const guardedRegions = (native: NativeBinding, sizes: readonly number[]): Placed[] => {
  const placed: Placed[] = [];
  const spacers: NativeRegion[] = [];
  const blockers: NativeRegion[] = [];
  try {
    for (const size of sizes) {
      for (let attempt = 0; ; attempt++) {
        if (attempt === 32)
          throw new Error('could not place a region with unmapped space after it');
        const name = `rx-memif-hostile-ring-${process.pid}-${regionSerial++}`;
        const spacer = native.Region.create(`${name}-spacer`, size + GRAIN);
        const region = native.Region.create(name, size);
        const all = mappings();
        const i = mappingOf(all, name);
        if (all[i + 1]?.line.endsWith(`/memfd:${name}-spacer (deleted)`)) {
          placed.push({ region, name });
          spacers.push(spacer);
          break;
        }
        blockers.push(spacer, region);
      }
    }
  } catch (e) {
    for (const p of placed) p.region.close();
    throw e;
  } finally {
    for (const r of [...spacers, ...blockers]) r.close();
  }
  return placed;
};

const roundUp = (x: number, grain: number): number => Math.ceil(x / grain) * grain;

const fillRandom = (bytes: Uint8Array, prng: Prng): void => {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = prng.u32();
};

export interface Zone {
  region: number;
  start: number;
  end: number;
}

export interface Rig {
  readonly log2: number;
  readonly n: number;
  readonly bufferSize: number;
  readonly regions: readonly NativeRegion[];
  readonly names: readonly string[];
  readonly sizes: readonly number[];
  readonly bytes: readonly Uint8Array[];
  readonly s2m: RingAccess;
  readonly m2s: RingAccess;
  readonly s2mIrq: NativeEventFd;
  readonly m2sIrq: NativeEventFd;
  /** Per region: where the hostile client puts S2M slot j's data (`+ j * bufferSize`). */
  readonly s2mBuffers: readonly number[];
  /** Region 0: slot 0 of the buffers a client offers on M2S. */
  readonly m2sBuffers: number;
  /** Never written during a campaign: static zones (at each region's end) and the idle ring. */
  readonly zones: readonly Zone[];
  readonly ringSpan: number;
  /** Unmapped bytes after each region, now. */
  gaps(): number[];
  close(): void;
}

export const createRig = (
  native: NativeBinding,
  log2: number,
  bufferSize: number,
  prng: Prng,
): Rig => {
  const n = 1 << log2;
  const cl = native.cacheLineSize;
  const ringSpan = ringBytes(cl, log2);
  const s2mBuffer0 = roundUp(2 * ringSpan, 64);
  const m2sBuffers = s2mBuffer0 + n * bufferSize;
  const sizes = [
    roundUp(m2sBuffers + n * bufferSize + STATIC_ZONE, GRAIN),
    roundUp(n * bufferSize + STATIC_ZONE, GRAIN),
  ];
  const placed = guardedRegions(native, sizes);
  const regions = placed.map((p) => p.region);
  const bytes = regions.map((r) => new Uint8Array(r.buffer));
  for (const b of bytes) fillRandom(b, prng);
  const s2m = new RingAccess(regions[0], 0, cl, log2);
  const m2s = new RingAccess(regions[0], ringSpan, cl, log2);
  s2m.init(0);
  m2s.init(0);
  const irqs = [native.EventFd.create(), native.EventFd.create()];
  return {
    log2,
    n,
    bufferSize,
    regions,
    names: placed.map((p) => p.name),
    sizes,
    bytes,
    s2m,
    m2s,
    s2mIrq: irqs[0],
    m2sIrq: irqs[1],
    s2mBuffers: [s2mBuffer0, 0],
    m2sBuffers,
    zones: sizes.map((size, region) => ({ region, start: size - STATIC_ZONE, end: size })),
    ringSpan,
    gaps: () => placed.map((p) => gapAfter(p.name)),
    close: () => {
      for (const irq of irqs) irq.close();
      for (const r of regions) r.close();
    },
  };
};
