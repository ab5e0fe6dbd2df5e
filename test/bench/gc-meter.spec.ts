import { expect } from 'chai';
import { GcMeter, gcTimeBetween } from '../../bench/gc-meter';

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
