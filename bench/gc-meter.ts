import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';

/** GC time and memory of this process over one measured window (the rx-memif side). */
export interface MemoryUse {
  readonly gcMs: number;
  readonly wallMs: number;
  /** CPU time of the whole process (user + system, all threads) in the window. */
  readonly cpuMs: number;
  /** GC pause time as a share of wall time, in % (one thread does both, so of its CPU too). */
  readonly gcShare: number;
  readonly majorGcs: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
}

/** The sum of the GC entries' durations between `from` and `to` (performance.now() times). */
export const gcTimeBetween = (
  entries: readonly Pick<PerformanceEntry, 'startTime' | 'duration'>[],
  from: number,
  to: number,
): number =>
  entries
    .filter((e) => e.startTime >= from && e.startTime < to)
    .reduce((ms, e) => ms + e.duration, 0);

/**
 * Records every GC of this process (perf_hooks `gc` entries) from construction to `close()`;
 * `window()` starts a measurement and its `end()` returns what happened inside it.
 */
export class GcMeter {
  private readonly entries: { startTime: number; duration: number; major: boolean }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // `detail.kind` (Node >= 16) says which collection it was.
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      this.entries.push({
        startTime: e.startTime,
        duration: e.duration,
        major: kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      });
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ['gc'] });
  }

  window(): { end: () => Promise<MemoryUse> } {
    const from = performance.now();
    const before = process.memoryUsage();
    const cpu = process.cpuUsage();
    return {
      end: async () => {
        const to = performance.now();
        const after = process.memoryUsage();
        const used = process.cpuUsage(cpu);
        // Entries reach the observer asynchronously: let the ones inside the window arrive.
        await new Promise((r) => setTimeout(r, 20));
        const inside = this.entries.filter((e) => e.startTime >= from && e.startTime < to);
        const gcMs = gcTimeBetween(inside, from, to);
        return {
          gcMs,
          wallMs: to - from,
          cpuMs: (used.user + used.system) / 1000,
          gcShare: to > from ? (100 * gcMs) / (to - from) : 0,
          majorGcs: inside.filter((e) => e.major).length,
          rssBefore: before.rss,
          rssAfter: after.rss,
          heapBefore: before.heapUsed,
          heapAfter: after.heapUsed,
        };
      },
    };
  }

  close(): void {
    this.observer.disconnect();
  }
}
