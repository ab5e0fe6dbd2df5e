import { expect } from 'chai';
import { Subject, firstValueFrom, take, toArray } from 'rxjs';
import { Burst } from '../../src/streams/burst';
import { perPacket } from '../../src/streams/per-packet';

/** Packet i of `count` is `i + 1` bytes, each byte `i`, laid out 8 bytes apart after `skip`. */
const burstOf = (count: number, skip = 16): Burst => {
  const whole = new Uint8Array(skip + count * 8);
  const data = whole.subarray(skip);
  const offsets = new Uint32Array(count);
  const lengths = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    offsets[i] = i * 8;
    lengths[i] = i + 1;
    data.fill(i, i * 8, i * 8 + i + 1);
  }
  return new Burst(0, count, data, offsets, lengths);
};

describe('streams: perPacket (rx over rxBursts)', () => {
  it('emits a view per packet into the burst memory (no copy), also from a data view at an offset', async () => {
    const bursts = new Subject<Burst>();
    const got = firstValueFrom(perPacket(bursts).pipe(toArray()));
    const b = burstOf(5);
    bursts.next(b);
    bursts.complete();
    const packets = await got;
    expect(packets.map((p) => [...p])).to.deep.equal(
      [0, 1, 2, 3, 4].map((i) => Array(i + 1).fill(i)),
    );
    for (let i = 0; i < 5; i++) {
      expect(packets[i].buffer).to.equal(b.data.buffer);
      expect(packets[i].byteOffset).to.equal(b.data.byteOffset + i * 8);
      expect(b.packet(i)).to.deep.equal(packets[i]);
    }
  });

  it('stops in the middle of a burst when the subscriber leaves', async () => {
    const bursts = new Subject<Burst>();
    const got = firstValueFrom(perPacket(bursts).pipe(take(3), toArray()));
    bursts.next(burstOf(10));
    expect((await got).map((p) => p.length)).to.deep.equal([1, 2, 3]);
    expect(bursts.observed).to.equal(false);
  });

  it('emits nothing more once the memory is gone (an unmapped zero-copy region reads as empty)', () => {
    const bursts = new Subject<Burst>();
    const seen: number[] = [];
    const b = burstOf(4);
    const gone = new Burst(0, 4, new Uint8Array(0), b.offsets, b.lengths);
    perPacket(bursts).subscribe((p) => seen.push(p.length));
    bursts.next(gone);
    expect(seen).to.deep.equal([]);
    expect(gone.packet(2).length).to.equal(0);
  });
});
