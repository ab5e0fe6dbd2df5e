import { DESC_FLAG_NEXT } from '../../src/control/layout';
import { classify, outcomeOf } from './ring-model';
import type { Reason, Seg, Unit } from './ring-model';
import type { Desc, Rig, Zone } from './ring-rig';
import type { Prng } from './prng';

/**
 * Makes the units a hostile peer publishes (see ring-model.ts): good packets of many shapes
 * (content derived from a sequence number, or memory that is not a buffer: a static zone up to
 * its region's very end, the idle ring, the receiving ring itself) mixed with every kind of bad
 * descriptor the issue lists. Every descriptor is checked against the model's classification as
 * it is made, so a unit is exactly what the generator says it is.
 */

export const PATTERN_SPAN = 1 << 20;

export interface GenContext {
  /**
   * Role of the receiving queue: 'server' reads S2M (the peer writes whole descriptors), 'client'
   * reads M2S (the peer fills buffers the client offered, and may scribble region/offset).
   */
  readonly role: 'server' | 'client';
  readonly rig: Rig;
  /** Ring index of stream position 0. */
  readonly base: number;
  readonly maxPacket: number;
  /** PATTERN_SPAN + maxPacket bytes. */
  readonly pattern: Uint8Array;
  readonly prng: Prng;
}

type Kind =
  'single' | 'chain' | 'alias' | 'bad' | 'badInChain' | 'tooBig' | 'tooBigChain' | 'endless';

export class UnitGenerator {
  private seq = 0;
  private readonly weights: Record<Kind, number>;
  private readonly idleRing: Zone;
  private readonly ownRing: Zone;
  /** Every kind once first, so that even a short run covers them all. */
  private readonly prelude: Kind[];

  constructor(private readonly ctx: GenContext) {
    const { n, ringSpan } = ctx.rig;
    // Endless chains are n descriptors each: about 5% of the bad descriptors.
    this.weights = {
      single: 30,
      chain: 10,
      alias: 5,
      bad: 40,
      badInChain: 8,
      tooBig: 2,
      tooBigChain: 2,
      endless: 4 / n,
    };
    this.prelude = Object.keys(this.weights) as Kind[];
    // The ring nobody uses in this campaign: a buffer overlapping it is still in the region.
    const s2m = { region: 0, start: 0, end: ringSpan };
    const m2s = { region: 0, start: ringSpan, end: 2 * ringSpan };
    [this.ownRing, this.idleRing] = ctx.role === 'server' ? [s2m, m2s] : [m2s, s2m];
  }

  next(start: number): Unit {
    const { prng, rig, maxPacket } = this.ctx;
    const kind =
      this.prelude.length > 0
        ? this.prelude.splice(prng.int(this.prelude.length), 1)[0]
        : prng.weighted(this.weights);
    const segs = this.make(kind, start);
    const outcome = outcomeOf(segs, rig.n, maxPacket);
    const expected: Record<Kind, Unit['outcome']> = {
      single: 'deliver',
      chain: 'deliver',
      alias: 'deliver',
      bad: 'drop',
      badInChain: 'drop',
      tooBig: 'tooBig',
      tooBigChain: 'tooBig',
      endless: 'badChain',
    };
    if (outcome !== expected[kind]) throw new Error(`generator bug: ${kind} unit is ${outcome}`);
    const total = segs.reduce((sum, s) => sum + s.desc.length, 0);
    const cutAt = segs.length > 1 && prng.chance(0.3) ? prng.range(1, segs.length - 1) : undefined;
    return { start, segs, outcome, total, kind, cutAt };
  }

  private make(kind: Kind, pos: number): Seg[] {
    const { prng, rig } = this.ctx;
    const B = rig.bufferSize;
    const n = rig.n;
    const flags = (j: number, k: number): number => (j < k - 1 ? DESC_FLAG_NEXT : 0);
    switch (kind) {
      case 'single':
        return this.good(
          [prng.chance(0.5) ? prng.range(1, 128) : prng.range(1, B)],
          pos,
          () => false,
        );
      case 'chain': {
        // Sometimes many small segments, up to the whole ring.
        const many = prng.chance(0.1);
        const k = many ? prng.range(2, n) : prng.range(2, Math.min(n, 5));
        return this.good(this.lengths(k, many ? 64 : B), pos, () => false);
      }
      case 'alias': {
        // Segments up to 4 buffers long: neither side can tell a length above the sender's buffer
        // size from a legal one if it lies inside the region (the server does not know the
        // client's buffer size; the client, like libmemif and VPP copy mode, follows what the
        // server wrote), so such a segment is delivered.
        const k = prng.range(1, Math.min(n, 3));
        return this.good(this.lengths(k, 4 * B), pos, () => prng.chance(0.6));
      }
      case 'bad':
        return [this.bad(pos, this.reason(), false)];
      case 'badInChain': {
        const k = prng.range(2, Math.min(n, 6));
        const badAt = prng.int(k);
        return Array.from({ length: k }, (_, j) =>
          j === badAt || prng.chance(0.3)
            ? this.bad(pos + j, this.reason(), j < k - 1)
            : this.valid(pos + j, prng.range(1, B), flags(j, k)),
        );
      }
      case 'tooBig':
        return [
          this.long(
            prng.chance(0.2)
              ? Number.MAX_SAFE_INTEGER
              : prng.range(this.ctx.maxPacket + 1, 4 * this.ctx.maxPacket),
            0,
          ),
        ];
      case 'tooBigChain': {
        const k = prng.range(2, Math.min(n, 8));
        const segs = Array.from({ length: k }, (_, j) =>
          this.valid(pos + j, prng.range(1, B), flags(j, k)),
        );
        const total = segs.reduce((sum, s) => sum + s.desc.length, 0);
        if (total <= this.ctx.maxPacket) {
          // One long segment (inside a region) tips it over.
          const j = prng.int(k);
          const rest = total - segs[j].desc.length;
          segs[j] = this.long(this.ctx.maxPacket - rest + prng.range(1, 4096), flags(j, k));
        }
        return segs;
      }
      case 'endless':
        // n descriptors, every one with NEXT: the chain covers the whole ring.
        return Array.from({ length: n }, (_, j) =>
          prng.chance(0.15)
            ? this.bad(pos + j, this.reason(), true)
            : this.valid(pos + j, prng.range(1, B), DESC_FLAG_NEXT),
        );
    }
  }

  /** k lengths of 1..max each, at most maxPacket in total. */
  private lengths(k: number, max: number): number[] {
    const { prng, maxPacket } = this.ctx;
    let budget = maxPacket;
    return Array.from({ length: k }, (_, j) => {
      const length = prng.range(1, Math.min(max, budget - (k - 1 - j)));
      budget -= length;
      return length;
    });
  }

  /** A delivered packet: segments of the pattern for this sequence number, or aliases. */
  private good(lengths: number[], pos: number, alias: (j: number) => boolean): Seg[] {
    const { pattern } = this.ctx;
    const k = lengths.length;
    // The sequence number picks where in the pattern this packet's bytes start.
    let at = (Math.imul(this.seq++, 0x9e3779b1) >>> 0) % PATTERN_SPAN;
    return lengths.map((length, j) => {
      const flags = j < k - 1 ? DESC_FLAG_NEXT : 0;
      if (length > this.ctx.rig.bufferSize || alias(j)) return this.alias(length, flags);
      const seg = this.valid(pos + j, length, flags);
      const data = pattern.subarray(at, at + length);
      at += length;
      // Content lives in the ring slot's own buffer; a ring slot is rewritten only once consumed.
      return { ...seg, data, write: true };
    });
  }

  /** A valid descriptor at slot `pos`'s own buffer (data not written: the unit is dropped). */
  private valid(pos: number, length: number, flags: number): Seg {
    const { rig, base, role, prng } = this.ctx;
    const slot = (base + pos) & (rig.n - 1);
    if (role === 'client') {
      const desc = { flags, region: 0, length, offset: rig.m2sBuffers + slot * rig.bufferSize };
      return this.check({ desc, reason: undefined, lengthFlagsOnly: true });
    }
    const region = prng.int(2);
    const desc = { flags, region, length, offset: rig.s2mBuffers[region] + slot * rig.bufferSize };
    return this.check({ desc, reason: undefined });
  }

  /**
   * A valid descriptor into memory that is not a buffer: a static zone (often up to its region's
   * very end), the idle ring, or the receiving ring itself (rings and buffers overlapping).
   */
  private alias(length: number, flags: number): Seg {
    const { rig, prng } = this.ctx;
    const fitsRing = length <= rig.ringSpan;
    const r = prng.int(5);
    if (fitsRing && r === 0) {
      const offset = prng.range(this.ownRing.start, this.ownRing.end - length);
      return this.check({
        desc: { flags, region: 0, length, offset },
        reason: undefined,
        fromRing: offset - this.ownRing.start,
      });
    }
    const zone = fitsRing && r === 1 ? this.idleRing : prng.pick(rig.zones);
    const offset =
      r > 1 && prng.chance(0.5) ? zone.end - length : prng.range(zone.start, zone.end - length);
    const desc = { flags, region: zone.region, length, offset };
    return this.check({
      desc,
      reason: undefined,
      data: rig.bytes[zone.region].subarray(offset, offset + length),
    });
  }

  /** A valid descriptor of `length` (capped at its region), anywhere inside a region. */
  private long(length: number, flags: number): Seg {
    const { rig, prng } = this.ctx;
    const region = prng.int(2);
    const size = rig.sizes[region];
    const l = Math.min(length, size);
    const offset = prng.chance(0.3) ? size - l : prng.range(0, size - l);
    return this.check({ desc: { flags, region, length: l, offset }, reason: undefined });
  }

  private reason(): Reason {
    return this.ctx.prng.pick<Reason>(['badFlags', 'badRegion', 'badLength', 'badBounds']);
  }

  /** A descriptor failing `reason` first (often also failing later checks: precedence). */
  private bad(pos: number, reason: Reason, next: boolean): Seg {
    const { prng, rig } = this.ctx;
    const good = this.valid(pos, prng.range(1, rig.bufferSize), next ? DESC_FLAG_NEXT : 0).desc;
    const d: Desc = { ...good };
    const alsoWorse = prng.chance(0.3);
    const u32 = (): number => prng.u32();
    switch (reason) {
      case 'badFlags':
        d.flags = (u32() & 0xfffe || 2) | (next ? DESC_FLAG_NEXT : 0);
        if (alsoWorse)
          Object.assign(d, {
            region: prng.int(0x10000),
            length: prng.pick([0, u32()]),
            offset: u32(),
          });
        break;
      case 'badRegion':
        d.region = prng.pick([rig.regions.length, 0xffff, prng.range(rig.regions.length, 0xffff)]);
        if (alsoWorse) Object.assign(d, { length: prng.pick([0, u32()]), offset: u32() });
        break;
      case 'badLength':
        d.length = 0;
        if (alsoWorse) d.offset = prng.range(rig.sizes[d.region], 0xffffffff);
        break;
      case 'badBounds':
        Object.assign(d, this.beyond(d.region));
        break;
    }
    return this.check({ desc: d, reason }, reason);
  }

  /** offset/length with offset + length past the region's end, u32 wrap-around included. */
  private beyond(region: number): Pick<Desc, 'offset' | 'length'> {
    const { prng, rig } = this.ctx;
    const size = rig.sizes[region];
    switch (prng.int(6)) {
      case 0: {
        // One byte beyond the end (the page after the region is unmapped).
        const length = prng.range(1, 4096);
        return { offset: size - length + 1, length };
      }
      case 1:
        return { offset: size, length: prng.range(1, 100) };
      case 2:
        return { offset: prng.range(size, 0xffffffff), length: prng.range(1, 0xffffffff) };
      case 3: {
        // offset + length wraps in 32 bits to a small in-region value: a u32 check would pass.
        // Often short enough to be delivered, so that such a check would read ~4 GiB away.
        const a = prng.chance(0.5) ? prng.range(0, 255) : prng.range(0, 0xffff);
        const w = prng.chance(0.5) ? prng.range(0, 1024) : prng.range(0, size - 1);
        return { offset: 0xffffffff - a, length: a + 1 + w };
      }
      case 4: {
        const offset = prng.range(0, size - 1);
        return {
          offset,
          length: prng.chance(0.3) ? 0xffffffff : prng.range(size - offset + 1, 0xffffffff),
        };
      }
      default: {
        // From a slot buffer to one byte past the end.
        const offset = rig.s2mBuffers[region] + prng.int(rig.n) * rig.bufferSize;
        return { offset, length: size - offset + 1 };
      }
    }
  }

  private check(seg: Seg, reason?: Reason): Seg {
    const got = classify(seg.desc, this.ctx.rig.sizes);
    if (got !== reason)
      throw new Error(`generator bug: ${JSON.stringify(seg.desc)} is ${got}, meant ${reason}`);
    return seg;
  }
}
