import type { InterfaceStats, MemifInterface } from '../index';
import type { Output } from './output';

interface Totals {
  packets: number;
  bytes: number;
}

const sum = (queues: InterfaceStats['rx']): Totals =>
  queues.reduce((t, q) => ({ packets: t.packets + q.packets, bytes: t.bytes + q.bytes }), {
    packets: 0,
    bytes: 0,
  });

/** Every drop reason of every queue, added up. */
export const dropsOf = (s: InterfaceStats): Record<string, number> => {
  const drops: Record<string, number> = {};
  for (const q of [...s.rx, ...s.tx])
    for (const [reason, n] of Object.entries(q.drops))
      drops[reason] = (drops[reason] ?? 0) + (n ?? 0);
  return drops;
};

/** Packets by queue, every queue of the interface (0 for one that never carried any). */
export const queueCounts = (
  s: InterfaceStats,
  queues: number,
): { queue: number; rx: number; tx: number }[] =>
  Array.from({ length: queues }, (_, queue) => ({
    queue,
    rx: s.rx.find((q) => q.queue === queue)?.packets ?? 0,
    tx: s.tx.find((q) => q.queue === queue)?.packets ?? 0,
  }));

const rate = (n: number, secs: number): number =>
  secs > 0 ? Number((n / secs / 1e6).toFixed(4)) : 0;

const human = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n} `;

/**
 * Prints a stats line a second (JSON, or one human line) and builds the summary:
 * `secs`, `rx` / `tx` `{packets, bytes, mpps}`, `drops` by reason, `queues`: packets by queue.
 */
export class TrafficReport {
  private timer: ReturnType<typeof setInterval> | undefined;
  private last: { rx: Totals; tx: Totals; at: number };
  private readonly started = performance.now();

  constructor(
    private readonly iface: MemifInterface,
    private readonly output: Output,
  ) {
    this.last = { rx: { packets: 0, bytes: 0 }, tx: { packets: 0, bytes: 0 }, at: this.started };
    this.timer = setInterval(() => this.tick(), 1000);
  }

  get secs(): number {
    return (performance.now() - this.started) / 1000;
  }

  private tick(): void {
    const s = this.iface.stats();
    const rx = sum(s.rx);
    const tx = sum(s.tx);
    const now = performance.now();
    const dt = (now - this.last.at) / 1000;
    const pps = (a: Totals, b: Totals) => Math.round((a.packets - b.packets) / dt);
    const bps = (a: Totals, b: Totals) => Math.round(((a.bytes - b.bytes) * 8) / dt);
    const fields = {
      secs: Number(this.secs.toFixed(3)),
      rx: { ...rx, pps: pps(rx, this.last.rx), bps: bps(rx, this.last.rx) },
      tx: { ...tx, pps: pps(tx, this.last.tx), bps: bps(tx, this.last.tx) },
      drops: dropsOf(s),
    };
    this.output.event(
      'stats',
      fields,
      `rx ${human(fields.rx.pps)}pps ${human(fields.rx.bps)}bps  tx ${human(fields.tx.pps)}pps ${human(fields.tx.bps)}bps  drops ${JSON.stringify(fields.drops)}`,
    );
    this.last = { rx, tx, at: now };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The summary's traffic fields, rates over `secs` (the active period). */
  summary(activeSecs: number): Record<string, unknown> {
    // Rates from the secs as printed, so that a reader's packets / secs gives the same figure.
    const secs = Number(activeSecs.toFixed(3));
    const s = this.iface.stats();
    const rx = sum(s.rx);
    const tx = sum(s.tx);
    return {
      secs,
      rx: { ...rx, mpps: rate(rx.packets, secs) },
      tx: { ...tx, mpps: rate(tx.packets, secs) },
      drops: dropsOf(s),
      queues: queueCounts(s, Math.max(this.iface.options.rxQueues, this.iface.options.txQueues)),
    };
  }
}
