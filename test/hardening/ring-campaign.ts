import { BAD_REASONS, addUnit, countsOf, diffCounts, zeroCounts } from './ring-model';
import type { CounterName, Counts, Unit } from './ring-model';
import { createRig } from './ring-rig';
import type { Rig } from './ring-rig';
import { checkAfterwards, fail, openTarget } from './ring-target';
import type { Target, TargetOptions } from './ring-target';
import { PATTERN_SPAN, UnitGenerator } from './ring-units';

/**
 * One hostile-ring campaign: a scripted peer publishes a stream of units (ring-units.ts) in
 * bursts of random size, over many ring wraps, sometimes cutting a chain at head on purpose and
 * sometimes moving its index by more than N; after every burst our queue makes one call with
 * random limits. Each call is checked against the model (ring-model.ts): it consumed whole units
 * from the cursor, delivered exactly the good ones among them (in order, byte-exact, in place
 * for zero-copy singles), moved every counter by exactly what those units imply, and stopped
 * only where it had to (chain not yet complete, maxPackets, slab full, zero-copy source change).
 */

export interface CampaignOptions extends TargetOptions {
  readonly log2: number;
  readonly bufferSize: number;
  /** Stop making units once this many descriptors of dropped units were generated. */
  readonly badTarget: number;
  /** Chance per burst that the peer fills the ring and then moves its index by more than N. */
  readonly jumpChance: number;
}

export interface CampaignStats {
  role: string;
  mode: string;
  n: number;
  base: number;
  descriptors: number;
  badDescriptors: number;
  units: number;
  calls: number;
  /** Calls that stopped at a chain whose end was not published yet (NEXT on the last slot). */
  waits: number;
  deliberateCuts: number;
  jumps: number;
  delivered: number;
  bytes: number;
  /** Injected, by reason (the counters were checked equal). */
  injected: Record<string, number>;
  kinds: Record<string, number>;
  /** Checks that the space after each region is unmapped: at the start, every 1024 calls, at the end. */
  guardChecks: number;
  /** Checks that found it mapped again (something else got placed there meanwhile). */
  guardLost: number;
  secs: number;
}

const SLAB = new Uint8Array(16 * 65536);
const OFFSETS = new Uint32Array(1 << 15);
const LENGTHS = new Uint32Array(1 << 15);
const REGIONS = new Int32Array(1);

export class Campaign {
  readonly rig: Rig;
  readonly target: Target;
  readonly stats: CampaignStats;
  private readonly gen: UnitGenerator;
  private readonly injected = zeroCounts();
  /** Units not yet consumed, in stream order (from `first`). */
  private units: Unit[] = [];
  private first = 0;
  /** Descriptors generated but not published: [unit, segment index]. */
  private stream: [Unit, number][] = [];
  private streamFirst = 0;
  private generated = 0;
  private published = 0;
  private cursor = 0;
  private readonly cutDone = new Set<Unit>();
  /** The receiving ring's bytes as the current call found them (for buffers overlapping it). */
  private readonly snapshot: Uint8Array;
  private readonly n: number;
  private readonly base: number;

  constructor(private readonly o: CampaignOptions) {
    const { prng } = o;
    // Allocated before the regions, so that they cannot land in the space left after them.
    const pattern = new Uint8Array(PATTERN_SPAN + o.maxPacket);
    const words = new Uint32Array(pattern.buffer);
    for (let i = 0; i < words.length; i++) words[i] = prng.u32();
    this.rig = createRig(o.native, o.log2, o.bufferSize, prng);
    this.n = this.rig.n;
    // Often close to the u16 wrap, so that it is crossed early and often.
    this.base = prng.chance(0.5) ? 0x10000 - prng.int(4 * this.n) : prng.int(0x10000);
    this.base &= 0xffff;
    try {
      this.target = openTarget(o, this.rig, this.base);
    } catch (e) {
      this.rig.close();
      throw e;
    }
    this.snapshot = new Uint8Array(this.rig.ringSpan);
    this.gen = new UnitGenerator({
      role: o.role,
      rig: this.rig,
      base: this.base,
      maxPacket: o.maxPacket,
      pattern,
      prng,
    });
    this.stats = {
      role: o.role,
      mode: o.mode,
      n: this.n,
      base: this.base,
      descriptors: 0,
      badDescriptors: 0,
      units: 0,
      calls: 0,
      waits: 0,
      deliberateCuts: 0,
      jumps: 0,
      delivered: 0,
      bytes: 0,
      injected: {},
      kinds: {},
      guardChecks: 0,
      guardLost: 0,
      secs: 0,
    };
  }

  /** Runs to the target, drains, and checks the totals and the ring state. */
  run(): CampaignStats {
    const started = process.hrtime.bigint();
    const { prng } = this.o;
    let stopping = false;
    let idle = 0;
    this.checkGuard();
    for (;;) {
      stopping ||= this.stats.badDescriptors >= this.o.badTarget;
      const free = this.n - (this.published - this.cursor);
      // At least one jump even in a short run.
      const jump = !stopping && (prng.chance(this.o.jumpChance) || this.stats.calls === 20);
      const r = prng.int(100);
      const k =
        jump || r < 60 ? free : r < 85 ? prng.range(0, free) : Math.min(free, prng.range(1, 3));
      this.publish(k, !jump, !stopping);
      const before = this.cursor;
      this.call(jump);
      if (stopping && this.cursor === this.published && this.streamFirst === this.stream.length)
        break;
      idle = this.cursor === before && this.published - this.cursor === this.n ? idle + 1 : 0;
      if (idle > 4) fail(`no progress with a full ring at stream position ${this.cursor}`);
      if (this.stats.calls % 1024 === 0) this.checkGuard();
    }
    this.checkGuard();
    this.checkEnd();
    this.stats.secs = Number(process.hrtime.bigint() - started) / 1e9;
    return this.stats;
  }

  private checkGuard(): void {
    this.stats.guardChecks++;
    if (this.rig.gaps().some((gap) => gap < 4096)) this.stats.guardLost++;
  }

  private ringIndex(pos: number): number {
    return (this.base + pos) & 0xffff;
  }

  /** Peer: writes k more descriptors (making units as needed) and publishes them with one store. */
  private publish(k: number, honourCuts: boolean, generate: boolean): void {
    const { ring } = this.target;
    const { prng } = this.o;
    const client = this.o.role === 'client';
    let done = 0;
    for (; done < k; done++) {
      if (this.streamFirst === this.stream.length) {
        if (!generate) break;
        this.addUnit();
      }
      const [unit, j] = this.stream[this.streamFirst];
      if (honourCuts && unit.cutAt === j && !this.cutDone.has(unit)) {
        this.cutDone.add(unit);
        this.stats.deliberateCuts++;
        break;
      }
      this.streamFirst++;
      const index = this.ringIndex(this.published + done);
      const seg = unit.segs[j];
      if (client) this.checkOffer(index);
      if (seg.write && seg.data) this.rig.bytes[seg.desc.region].set(seg.data, seg.desc.offset);
      if (seg.lengthFlagsOnly) ring.writeLengthAndFlags(index, seg.desc.length, seg.desc.flags);
      else ring.write(index, seg.desc, prng.u32());
    }
    if (this.streamFirst > 4096) {
      this.stream = this.stream.slice(this.streamFirst);
      this.streamFirst = 0;
    }
    this.published += done;
    this.storeProducer(this.published);
  }

  private storeProducer(pos: number): void {
    const index = this.ringIndex(pos);
    if (this.o.role === 'client') this.target.ring.tail = index;
    else this.target.ring.head = index;
  }

  /** Client rx: the slot must be offered exactly as the client does it (a scribble undone). */
  private checkOffer(index: number): void {
    const d = this.target.ring.read(index);
    const slot = index & (this.n - 1);
    const offset = this.rig.m2sBuffers + slot * this.rig.bufferSize;
    if (
      d.flags !== 0 ||
      d.region !== 0 ||
      d.length !== this.rig.bufferSize ||
      d.offset !== offset ||
      d.metadata !== 0
    )
      fail(
        `slot ${slot} offered as ${JSON.stringify(d)}, expected region 0 offset ${offset} length ${this.rig.bufferSize}`,
      );
  }

  private addUnit(): void {
    const unit = this.gen.next(this.generated);
    this.generated += unit.segs.length;
    this.units.push(unit);
    for (let j = 0; j < unit.segs.length; j++) this.stream.push([unit, j]);
    addUnit(this.injected, unit);
    this.stats.units++;
    this.stats.kinds[unit.kind] = (this.stats.kinds[unit.kind] ?? 0) + 1;
    if (unit.outcome !== 'deliver') this.stats.badDescriptors += unit.segs.length;
  }

  /** Our side: one receive() or peek()+release() with random limits, checked against the model. */
  private call(jump: boolean): void {
    const { queue, counters, ring } = this.target;
    const { prng, maxPacket } = this.o;
    const zeroCopy = this.o.mode === 'zero-copy';
    if (jump) {
      // The peer filled the ring; now its index claims more than N (or moves backwards).
      const j = prng.pick([1, 0xffff - this.n, prng.range(1, 0xffff - this.n)]);
      this.storeProducer(this.published + j);
      this.stats.jumps++;
      this.injected.badIndex++;
    }
    const slabOffset = prng.chance(0.5) ? 0 : prng.range(0, 4096);
    const free = prng.chance(0.3)
      ? maxPacket + prng.int(64)
      : prng.range(maxPacket, SLAB.length - slabOffset);
    const slab = SLAB.subarray(0, slabOffset + free);
    const max = prng.chance(0.2) ? prng.range(1, 3) : prng.range(1, 2 * this.n);
    const before = countsOf(counters);
    const ringAt = ring.offset;
    this.snapshot.set(this.rig.bytes[0].subarray(ringAt, ringAt + this.rig.ringSpan));
    const packets = zeroCopy
      ? queue.peek(slab, slabOffset, REGIONS, OFFSETS, LENGTHS, max)
      : queue.receive(slab, slabOffset, OFFSETS, LENGTHS, max);
    this.stats.calls++;
    const source = zeroCopy && packets > 0 ? REGIONS[0] : -1;
    const used = this.checkDelivered(packets, slabOffset, source);
    if (jump) this.storeProducer(this.published);
    if (zeroCopy) queue.release();
    this.checkConsumed(packets, diffCounts(countsOf(counters), before), jump);
    this.checkStop(packets, max, free - used, source);
    const expectedHead = this.o.role === 'client' ? this.cursor + this.n : this.published;
    if (ring.head !== this.ringIndex(expectedHead))
      fail(`head ${ring.head}, expected ${this.ringIndex(expectedHead)}`);
    const pending = queue.pending();
    if (pending !== this.published - this.cursor)
      fail(`pending() ${pending}, expected ${this.published - this.cursor}`);
  }

  /** The next `packets` deliverable units from the cursor, against what the call reported. */
  private checkDelivered(packets: number, slabOffset: number, source: number): number {
    let u = this.first;
    let used = 0;
    for (let i = 0; i < packets; i++) {
      while (u < this.units.length && this.units[u].outcome !== 'deliver') u++;
      const unit = this.units[u++];
      if (unit === undefined || unit.start + unit.segs.length > this.published)
        fail(`packet ${i} of a call delivered with nothing deliverable published`);
      const at = OFFSETS[i];
      const length = LENGTHS[i];
      if (length !== unit.total)
        fail(
          `packet ${i}: length ${length}, expected ${unit.total} (${unit.kind} at ${unit.start})`,
        );
      let bytes: Uint8Array;
      if (source >= 0) {
        // Zero-copy: the very buffer the descriptor names.
        const d = unit.segs[0].desc;
        if (unit.segs.length !== 1 || d.region !== source || d.offset !== at)
          fail(
            `packet ${i}: in place at ${source}:${at}, expected a single segment at ${d.region}:${d.offset}`,
          );
        bytes = this.rig.bytes[source].subarray(at, at + length);
      } else {
        if (this.o.mode === 'zero-copy' && unit.segs.length === 1)
          fail(`packet ${i}: a single segment copied in zero-copy mode`);
        if (at !== slabOffset + used)
          fail(`packet ${i}: slab offset ${at}, expected ${slabOffset + used}`);
        bytes = SLAB.subarray(at, at + length);
        used += length;
      }
      let off = 0;
      for (const seg of unit.segs) {
        const from = seg.fromRing;
        const want =
          from !== undefined
            ? this.snapshot.subarray(from, from + seg.desc.length)
            : (seg.data ?? fail('no data'));
        if (Buffer.compare(bytes.subarray(off, off + want.length), want) !== 0)
          fail(
            `packet ${i} (${unit.kind}, unit at ${unit.start}): content differs at segment offset ${off}`,
          );
        off += want.length;
      }
      this.stats.delivered++;
      this.stats.bytes += length;
    }
    return used;
  }

  /** Where the queue put its cursor: whole units, and exactly the counters they imply. */
  private checkConsumed(packets: number, delta: Counts, jump: boolean): void {
    const { ring } = this.target;
    const index = this.o.role === 'client' ? ring.head - this.n : ring.tail;
    const advanced = (index - this.ringIndex(this.cursor)) & 0xffff;
    if (advanced > this.published - this.cursor)
      fail(`cursor moved ${advanced}, only ${this.published - this.cursor} published`);
    const end = this.cursor + advanced;
    const want = zeroCounts();
    let pos = this.cursor;
    while (pos < end) {
      const unit = this.units[this.first++];
      if (unit === undefined || unit.start !== pos) fail(`model out of step at ${pos}`);
      addUnit(want, unit);
      pos += unit.segs.length;
    }
    if (pos !== end) fail(`cursor stopped inside a unit (${end}, unit ends at ${pos})`);
    if (this.first > 4096) {
      this.units = this.units.slice(this.first);
      this.first = 0;
    }
    if (want.packets !== packets)
      fail(`consumed ${want.packets} deliverable units but reported ${packets}`);
    want.bursts = packets > 0 ? 1 : 0;
    want.badIndex = jump ? 1 : 0;
    for (const k of Object.keys(want) as CounterName[])
      if (delta[k] !== want[k])
        fail(
          `counter ${k} moved by ${delta[k]}, expected ${want[k]} (call ${this.stats.calls}, cursor ${this.cursor})`,
        );
    this.cursor = end;
  }

  /** The call may stop before a complete unit only for a reason the contract gives. */
  private checkStop(packets: number, max: number, slabLeft: number, source: number): void {
    const unit = this.units[this.first];
    if (this.cursor === this.published || unit === undefined) return;
    if (unit.start + unit.segs.length > this.published) {
      this.stats.waits++;
      return;
    }
    if (packets === max) return;
    if (unit.outcome !== 'deliver') fail(`stopped before a ${unit.outcome} unit at ${unit.start}`);
    const zeroCopy = this.o.mode === 'zero-copy';
    const single = unit.segs.length === 1;
    const why =
      zeroCopy && single
        ? packets > 0 && (source < 0 || source !== unit.segs[0].desc.region)
        : (zeroCopy && source >= 0) || unit.total > slabLeft;
    if (!why) fail(`stopped before a deliverable ${unit.kind} unit at ${unit.start} for no reason`);
  }

  private checkEnd(): void {
    const { ring, counters } = this.target;
    const end = this.ringIndex(this.published);
    if (ring.tail !== end) fail(`tail ${ring.tail} at the end, expected ${end}`);
    const got = countsOf(counters);
    for (const k of [...BAD_REASONS, 'descriptors', 'packets', 'bytes'] as const)
      if (got[k] !== this.injected[k])
        fail(`${k}: counted ${got[k]}, injected ${this.injected[k]}`);
    for (const k of ['ringFull', 'interrupts', 'badOffer'] as const)
      if (got[k] !== 0) fail(`${k} is ${got[k]}`);
    this.stats.descriptors = this.published;
    const { badFlags, badRegion, badLength, badBounds, tooBig, badChain, badIndex } = this.injected;
    this.stats.injected = { badFlags, badRegion, badLength, badBounds, tooBig, badChain, badIndex };
  }

  /** The queue keeps working afterwards (see ring-target.ts); returns the packets checked. */
  afterwards(): number {
    return checkAfterwards(this.target, this.rig, this.o);
  }

  close(): void {
    this.target.queue.close();
    this.rig.close();
  }
}
