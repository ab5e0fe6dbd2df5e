import { expect } from 'chai';
import { GcMeter, gcTimeBetween } from '../../bench/gc-meter';
import { traceGcMs } from '../../bench/trace-gc';

describe('bench GC meter', () => {
  it('sums the GC entries that start inside the window', () => {
    const entries = [
      { startTime: 5, duration: 100 },
      { startTime: 10, duration: 2 },
      { startTime: 15, duration: 3 },
      { startTime: 20, duration: 50 },
    ];
    expect(gcTimeBetween(entries, 10, 20)).to.equal(5);
    expect(gcTimeBetween([], 0, 1)).to.equal(0);
  });

  it('sees a forced collection and reports memory around the window', async function () {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) {
      // Without --expose-gc: make garbage until a collection happens.
      let keep: unknown[] = [];
      const meter = new GcMeter();
      const w = meter.window();
      for (let i = 0; i < 2e5; i++) keep = [new Array(50).fill(i)];
      const use = await w.end();
      meter.close();
      expect(keep).to.have.length(1);
      expect(use.gcMs).to.be.above(0);
      expect(use.gcShare).to.be.above(0).and.below(100);
      expect(use.rssBefore).to.be.above(0);
      expect(use.rssAfter).to.be.above(0);
      return;
    }
    const meter = new GcMeter();
    const w = meter.window();
    gc();
    const use = await w.end();
    meter.close();
    expect(use.majorGcs).to.be.at.least(1);
  });
});

describe('bench --trace-gc lines', () => {
  it('reads the pause and the incremental steps, and which collection it was', () => {
    expect(
      traceGcMs(
        '[20503:0x32b77ec0]       45 ms: Scavenge 3.9 (4.0) -> 3.8 (5.0) MB, 8.44 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ',
      ),
    ).to.deep.equal({ ms: 8.44, major: false });
    const major = traceGcMs(
      '[20533:0x970ee70]      429 ms: Mark-Compact 153.2 (182.6) -> 27.6 (61.7) MB, 12.54 / 0.01 ms  (+ 3.1 ms in 3 steps since start of marking, biggest step 1.8 ms, walltime since start of marking 31 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via stack guard; GC in old space requested',
    );
    expect(major?.ms).to.be.closeTo(15.64, 1e-9);
    expect(major?.major).to.equal(true);
    expect(traceGcMs('{"event":"stats","secs":1}')).to.equal(undefined);
    expect(traceGcMs('')).to.equal(undefined);
  });
});
