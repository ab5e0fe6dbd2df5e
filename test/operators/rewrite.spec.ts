import { expect } from 'chai';
import fc from 'fast-check';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  decrementTtl,
  decrementTtlOrDrop,
  internetChecksum,
  isTagged,
  parsePacket,
  popVlan,
  pushVlan,
  setIpv4Checksum,
  setVlan,
  swapMacs,
  verifyIpv4Checksum,
  verifyL4Checksum,
  type ParsedPacket,
} from '../../src/streams/operators';
import { concat, ethernet, ipv4Header } from './build';
import { ARP_REQUEST, hex, ICMP6_ECHO, ICMP_ECHO, ipOnly, QINQ_IPV6_UDP, VLAN_UDP } from './golden';

const tags = (f: Uint8Array): number[][] =>
  (parsePacket(f) as ParsedPacket).ethernet!.tags.map((t) => [t.tpid, t.vid, t.pcp, +t.dei]);

describe('operators: rewrites', () => {
  it('swapMacs swaps in place and returns the frame', () => {
    const f = ICMP_ECHO.slice();
    expect(swapMacs(f)).to.equal(f);
    expect([...f.subarray(0, 12)]).to.deep.equal([
      ...ICMP_ECHO.subarray(6, 12),
      ...ICMP_ECHO.subarray(0, 6),
    ]);
    expect([...f.subarray(12)]).to.deep.equal([...ICMP_ECHO.subarray(12)]);
    const tiny = hex('0102');
    expect(swapMacs(tiny)).to.equal(tiny);
  });

  it('pushVlan returns a new, longer frame; popVlan undoes it in place', () => {
    const pushed = pushVlan(ICMP_ECHO, 42, { pcp: 5, dei: true });
    expect(pushed.length).to.equal(ICMP_ECHO.length + 4);
    expect(tags(pushed)).to.deep.equal([[0x8100, 42, 5, 1]]);
    expect(verifyL4Checksum(pushed)).to.equal(true);
    const s = pushVlan(pushed, 7, { tpid: 0x88a8 });
    expect(tags(s)).to.deep.equal([
      [0x88a8, 7, 0, 0],
      [0x8100, 42, 5, 1],
    ]);
    const popped = popVlan(s);
    expect(popped.buffer).to.equal(s.buffer); // a view of the same memory
    expect([...popped]).to.deep.equal([...pushed]);
    expect([...popVlan(popVlan(pushed.slice()))]).to.deep.equal([...ICMP_ECHO]);
    expect(popVlan(ICMP_ECHO)).to.equal(ICMP_ECHO);
    expect(() => pushVlan(ICMP_ECHO, 4096)).to.throw(RangeError);
  });

  it('setVlan rewrites the outer tag in place, or pushes one on an untagged frame', () => {
    const f = VLAN_UDP.slice();
    expect(setVlan(f, 200)).to.equal(f);
    expect(tags(f)).to.deep.equal([[0x8100, 200, 3, 0]]);
    setVlan(f, 201, { pcp: 1, dei: true });
    expect(tags(f)).to.deep.equal([[0x8100, 201, 1, 1]]);
    const q = QINQ_IPV6_UDP.slice();
    setVlan(q, 11);
    expect(tags(q).map((t) => t[1])).to.deep.equal([11, 20]);
    const fresh = setVlan(ICMP_ECHO, 5);
    expect(fresh).to.not.equal(ICMP_ECHO);
    expect(isTagged(fresh)).to.equal(true);
    expect(isTagged(ICMP_ECHO)).to.equal(false);
  });

  it('decrementTtl updates TTL and checksum, hop limit, and refuses expiring packets', () => {
    const f = ICMP_ECHO.slice();
    expect(decrementTtl(f)).to.equal(f);
    expect(f[22]).to.equal(63);
    expect(verifyIpv4Checksum(f)).to.equal(true);
    const g = ipOnly(ICMP6_ECHO);
    expect(decrementTtl(g, 'ip')).to.equal(g);
    expect(g[7]).to.equal(63);
    const dying = ICMP_ECHO.slice();
    dying[22] = 1;
    setIpv4Checksum(dying);
    const before = dying.slice();
    expect(decrementTtl(dying)).to.equal(undefined);
    expect([...dying]).to.deep.equal([...before]);
    expect(decrementTtl(ARP_REQUEST)).to.equal(undefined);
    expect(decrementTtl(ICMP_ECHO.subarray(0, 30))).to.equal(undefined);
  });

  it('keeps the IPv4 checksum valid and equal to a full recomputation (fast-check)', () => {
    const addr = fc.uint8Array({ minLength: 4, maxLength: 4 });
    fc.assert(
      fc.property(
        addr,
        addr,
        fc.integer({ min: 2, max: 255 }),
        fc.nat(255),
        fc.nat(0xffff),
        fc.nat(255),
        (src, dst, ttl, protocol, id, tos) => {
          const f = setIpv4Checksum(
            concat(ethernet(0x0800), ipv4Header({ src, dst, ttl, protocol, id, tos }, 0)),
          );
          expect(decrementTtl(f)).to.equal(f);
          expect(verifyIpv4Checksum(f)).to.equal(true);
          const h = f.slice(14, 34);
          h[10] = h[11] = 0;
          expect((f[24] << 8) | f[25]).to.equal(internetChecksum(h));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('operators: rewrite operators', () => {
  const testScheduler = (): TestScheduler =>
    new TestScheduler((a, e) => {
      expect(a).to.deep.equal(e);
    });

  it('decrementTtlOrDrop passes decremented frames and drops the rest to onDrop', () => {
    const dying = ICMP_ECHO.slice();
    dying[22] = 1;
    const expected = ICMP_ECHO.slice();
    decrementTtl(expected);
    const dropped: Uint8Array[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b-c|', { a: ICMP_ECHO.slice(), b: dying, c: ARP_REQUEST }).pipe(
        decrementTtlOrDrop({ onDrop: (f) => dropped.push(f) }),
      );
      expectObservable(src).toBe('a----|', { a: expected });
    });
    expect(dropped).to.deep.equal([dying, ARP_REQUEST]);
  });

  it('rewrites compose with map (a reflector)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('-a|', { a: ICMP_ECHO.slice() });
      expectObservable(
        src.pipe(
          map(swapMacs),
          map((f) => pushVlan(f, 9)),
        ),
      ).toBe('-a|', {
        a: pushVlan(swapMacs(ICMP_ECHO.slice()), 9),
      });
    });
  });
});
