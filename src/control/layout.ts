import type { RingDirection } from './messages';

/**
 * Shared-memory layout arithmetic (docs/protocol.md#shared-memory). Sizes are bigint where a peer's
 * values enter (u64 region sizes, u32 offsets plus products), so that no check can overflow.
 */

/** Descriptor size in bytes. */
export const DESCRIPTOR_SIZE = 16;
export const MEMIF_COOKIE = 0x3e31f20;
export const DESC_FLAG_NEXT = 1;
export const RING_FLAG_MASK_INT = 1;

/** Offsets inside a ring header, for a given cache-line size (64 on x86_64). */
export interface RingHeaderLayout {
  readonly cookie: 0;
  readonly flags: 4;
  readonly head: 6;
  /** One cache line in, so head and tail never share a line. */
  readonly tail: number;
  /** Two cache lines in. */
  readonly descriptors: number;
}

export const ringHeaderLayout = (cacheLineSize: number): RingHeaderLayout => ({
  cookie: 0,
  flags: 4,
  head: 6,
  tail: cacheLineSize,
  descriptors: 2 * cacheLineSize,
});

/** Bytes one ring takes: header plus `2^log2` descriptors. */
export const ringBytes = (cacheLineSize: number, log2RingSize: number): number =>
  2 * cacheLineSize + DESCRIPTOR_SIZE * (1 << log2RingSize);

export interface RingPlacement {
  readonly direction: RingDirection;
  readonly index: number;
  readonly region: number;
  readonly offset: number;
}

/** Where the client puts everything, in the VPP/DPDK single-region copy-mode layout. */
export interface ClientLayout {
  readonly cacheLineSize: number;
  readonly log2RingSize: number;
  readonly bufferSize: number;
  readonly s2mRings: number;
  readonly m2sRings: number;
  /** Ring placements: all S2M rings, then all M2S rings. */
  readonly rings: readonly RingPlacement[];
  /** Region 0 offset of the first packet buffer. */
  readonly bufferBase: number;
  /** Region 0 size: rings then `R * N * B` buffers. */
  readonly regionSize: number;
}

export interface ClientLayoutParams {
  readonly cacheLineSize: number;
  readonly log2RingSize: number;
  readonly bufferSize: number;
  readonly s2mRings: number;
  readonly m2sRings: number;
}

/** Region 0 offsets are u32 on the wire: the layout must fit in 4 GiB. */
export const MAX_REGION_OFFSET = 0xffffffff;

export const clientLayout = (p: ClientLayoutParams): ClientLayout => {
  const stride = ringBytes(p.cacheLineSize, p.log2RingSize);
  const slots = 1 << p.log2RingSize;
  const ringCount = p.s2mRings + p.m2sRings;
  const rings: RingPlacement[] = [];
  for (let i = 0; i < p.s2mRings; i++)
    rings.push({ direction: 's2m', index: i, region: 0, offset: i * stride });
  for (let i = 0; i < p.m2sRings; i++)
    rings.push({ direction: 'm2s', index: i, region: 0, offset: (p.s2mRings + i) * stride });
  const bufferBase = ringCount * stride;
  return {
    ...p,
    rings,
    bufferBase,
    regionSize: bufferBase + ringCount * slots * p.bufferSize,
  };
};

/**
 * Buffer offset for descriptor `slot` of a ring, in 32-bit-safe arithmetic (VPP computed this in
 * u16 and aliased buffers past 65536 slots).
 */
export const bufferOffset = (layout: ClientLayout, ring: RingPlacement, slot: number): number => {
  const ringOrdinal = ring.direction === 's2m' ? ring.index : layout.s2mRings + ring.index;
  return layout.bufferBase + (ringOrdinal * (1 << layout.log2RingSize) + slot) * layout.bufferSize;
};

/** A span `[start, end)` inside a region, for overlap checks on what a peer announced. */
export interface Span {
  readonly region: number;
  readonly start: bigint;
  readonly end: bigint;
}

export const ringSpan = (
  cacheLineSize: number,
  region: number,
  offset: number,
  log2RingSize: number,
): Span => ({
  region,
  start: BigInt(offset),
  end: BigInt(offset) + BigInt(ringBytes(cacheLineSize, log2RingSize)),
});

export const overlaps = (a: Span, b: Span): boolean =>
  a.region === b.region && a.start < b.end && b.start < a.end;
