import { expect } from 'chai';
import fc from 'fast-check';
import { of } from 'rxjs';
import { Burst } from '../../src/streams/burst';
import {
  icmpReplier,
  icmpResponder,
  icmpResponderBurst,
  parsePacket,
  pushVlan,
  type LinkMode,
} from '../../src/streams/operators';
import { arpReply, echoReply4, echoReply6, forUs } from '../../src/streams/operators/icmp-replies';
import { neighborAdvertisement } from '../../src/streams/operators/neighbor-advertisement';
import { responderConfig } from '../../src/streams/operators/responder-config';
import { burstOf } from './build';
import { HEADS, randomFrame } from './frames';
import {
  ARP_REQUEST,
  ICMP6_ECHO,
  ICMP_ECHO,
  MAC_A,
  NEIGHBOR_SOLICITATION,
  VLAN_UDP,
} from './golden';

/** The replier as it was before the byte-level "not for us": a full parse of every frame. */
const slowReplier = (ip: string[], mac: string | undefined, mode: LinkMode) => {
  const cfg = responderConfig(ip, mac, mode);
  return (frame: Uint8Array): Uint8Array | undefined => {
    const p = parsePacket(frame, cfg.mode);
    if (p.kind !== 'packet' || !forUs(p, cfg.mac)) return undefined;
    const net = p.network;
    const t = p.transport;
    if (net?.kind === 'arp') return arpReply(p, net, cfg);
    if (net?.kind === 'ipv4' && t?.kind === 'icmp') return echoReply4(p, net, t, cfg);
    if (net?.kind === 'ipv6' && t?.kind === 'icmpv6')
      return t.type === 135 ? neighborAdvertisement(p, net, t, cfg) : echoReply6(p, net, t, cfg);
    return undefined;
  };
};

const CONFIGS: [string[], string | undefined, LinkMode][] = [
  [['10.0.0.1', 'fd00::1'], MAC_A, 'ethernet'],
  [['10.0.0.0/24'], MAC_A, 'ethernet'],
  [['fd00::/64'], MAC_A, 'ethernet'],
  [['10.0.0.1', 'fd00::1'], undefined, 'ip'],
];

const frames = fc.oneof(
  randomFrame(),
  fc.constantFrom(...HEADS, pushVlan(ICMP_ECHO, 5), pushVlan(ARP_REQUEST, 7)).map((frame) => ({
    frame,
    mode: 'ethernet' as const,
  })),
);

describe('operators: the responder decides "not for us" on the bytes', () => {
  it('answers exactly as the full parse did, per packet (fast-check)', () => {
    const fast = CONFIGS.map(([ip, mac, mode]) => icmpReplier({ ip, mac, mode }));
    const slow = CONFIGS.map(([ip, mac, mode]) => slowReplier(ip, mac, mode));
    let answered = 0;
    fc.assert(
      fc.property(frames, fc.nat(CONFIGS.length - 1), ({ frame }, c) => {
        const want = slow[c](frame);
        if (want) answered++;
        expect(fast[c](frame)).to.deep.equal(want);
      }),
      { numRuns: 4000 },
    );
    expect(answered).to.be.greaterThan(20);
  });

  it('icmpResponderBurst: the replies of icmpResponder, the others as one burst over the same data (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(frames, { maxLength: 10 }), fc.nat(CONFIGS.length - 1), (fs, c) => {
        const [ip, mac, mode] = CONFIGS[c];
        const list = fs.map((f) => f.frame);
        const b = burstOf(...list.map((f) => [...f]));
        const wantReplies: Uint8Array[] = [];
        const wantOthers: number[][] = [];
        of(...list)
          .pipe(icmpResponder({ ip, mac, mode, passThrough: (f) => wantOthers.push([...f]) }))
          .subscribe((r) => wantReplies.push(r));
        const replies: Uint8Array[] = [];
        const others: Burst[] = [];
        of(b)
          .pipe(icmpResponderBurst({ ip, mac, mode, passThrough: (x) => others.push(x) }))
          .subscribe((rs) => replies.push(...rs));
        expect(replies).to.deep.equal(wantReplies);
        expect(others.flatMap((x) => [...x].map((p) => [...p]))).to.deep.equal(wantOthers);
        for (const x of others) expect(x.data).to.equal(b.data);
        if (wantReplies.length === 0 && list.length > 0) expect(others[0]).to.equal(b);
      }),
      { numRuns: 1500 },
    );
  });

  it('emits nothing for a burst with no request, and the replies of one with some', () => {
    const got: (readonly Uint8Array[])[] = [];
    const op = icmpResponderBurst({ ip: '10.0.0.1', mac: MAC_A });
    of(
      burstOf([...VLAN_UDP]),
      burstOf([...ICMP_ECHO], [...VLAN_UDP], [...NEIGHBOR_SOLICITATION], [...ICMP6_ECHO]),
    )
      .pipe(op)
      .subscribe((r) => got.push(r));
    expect(got.map((r) => r.length)).to.deep.equal([1]);
    expect(() => icmpResponderBurst({ ip: '10.0.0.1' })).to.throw(TypeError);
  });
});
