import { icmpResponderBurst, parsePacket } from '../../index';
import type { Burst, LinkMode } from '../../index';
import { untilStopped } from '../queue-io';
import type { QueueIo, QueueWork, WorkKind } from '../queue-io';

export type AnsweredKind = 'arp' | 'icmp' | 'icmpv6' | 'nd';

export interface RespondParams {
  readonly ips: readonly string[];
  readonly mac: string;
  readonly mode: LinkMode;
  readonly echoOther: boolean;
}

export interface RespondTally {
  answered: Record<AnsweredKind, number>;
  /** Frames that were not requests for us (dropped, or sent back with --echo-other). */
  other: number;
}

const zero = (): RespondTally => ({ answered: { arp: 0, icmp: 0, icmpv6: 0, nd: 0 }, other: 0 });

/** What kind of request a reply answers (read from the reply itself). */
const kindOf = (reply: Uint8Array, mode: LinkMode): AnsweredKind | undefined => {
  const p = parsePacket(reply, mode);
  if (p.kind !== 'packet') return undefined;
  if (p.network?.kind === 'arp') return 'arp';
  if (p.transport?.kind === 'icmp') return 'icmp';
  if (p.transport?.kind === 'icmpv6') return p.transport.type === 136 ? 'nd' : 'icmpv6';
  return undefined;
};

/** Answers the requests received on queue `q` on the same queue (or the last tx queue). */
const start = (io: QueueIo, q: number, p: RespondParams): QueueWork<RespondTally> => {
  const t = zero();
  const out = io.txBursts(Math.min(q, io.options.txQueues - 1));
  // A burst at a time: "not for us" is read from the bytes in place, and the other frames
  // go back as one burst over the received memory (one native call, as `echo` does).
  const passThrough = (b: Burst): void => {
    t.other += b.count;
    if (p.echoOther) out.next(b);
  };
  const sub = io
    .rxBursts(q)
    .pipe(icmpResponderBurst({ ip: [...p.ips], mac: p.mac, mode: p.mode, passThrough }))
    .subscribe((replies) => {
      for (const r of replies) {
        const kind = kindOf(r, p.mode);
        if (kind) t.answered[kind]++;
      }
      out.next(replies);
    });
  const tally = (): RespondTally => ({ answered: { ...t.answered }, other: t.other });
  return untilStopped(sub, tally);
};

export const respondWork: WorkKind<RespondParams, RespondTally> = {
  start,
  zero,
  add: (a, b) => ({
    answered: {
      arp: a.answered.arp + b.answered.arp,
      icmp: a.answered.icmp + b.answered.icmp,
      icmpv6: a.answered.icmpv6 + b.answered.icmpv6,
      nd: a.answered.nd + b.answered.nd,
    },
    other: a.other + b.other,
  }),
};
