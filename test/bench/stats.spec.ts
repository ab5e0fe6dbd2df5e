import { expect } from 'chai';
import { mean, median, pairedRatio, quantile, steadyRate } from '../../bench/stats';
import { testpmdRxPps } from '../../bench/testpmd-output';

describe('bench statistics', () => {
  it('median and quantiles by nearest rank, undefined when empty', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(3);
    expect(median([])).to.equal(undefined);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(hundred, 0.99)).to.equal(100);
    expect(quantile(hundred, 0)).to.equal(1);
    expect(mean([1, 2, 6])).to.equal(3);
    expect(mean([])).to.equal(undefined);
  });

  it('pairs rounds for a ratio, leaving out rounds whose reference read 0', () => {
    expect(pairedRatio([2, 4], [4, 8])).to.equal(0.5);
    // Round 2's reference crashed: only round 1 counts, not 6 / 4.
    expect(pairedRatio([2, 4], [4, 0])).to.equal(0.5);
    // Sums, not a mean of ratios: a fast round weighs more.
    expect(pairedRatio([1, 9], [2, 8])).to.equal(1);
    expect(pairedRatio([0, 0], [5, 5])).to.equal(0);
    expect(pairedRatio([1], [0])).to.equal(undefined);
    expect(pairedRatio([], [])).to.equal(undefined);
  });

  it('a steady rate skips the warm-up second and the zeros', () => {
    expect(steadyRate([1, 10, 0, 12, 11, 0])).to.equal(11);
    expect(steadyRate([5])).to.equal(0);
    expect(steadyRate([])).to.equal(0);
  });

  it("reads testpmd's per-second Rx-pps of one port", () => {
    const block = (port: number, pps: number) =>
      `\x1b[2J\x1b[1;1H\n  ######################## NIC statistics for port ${port}  ########################\n` +
      `  RX-packets: 100        RX-missed: 0          RX-bytes:  6400\n` +
      `  Throughput (since last show)\n  Rx-pps:     ${pps}          Rx-bps:     1\n  Tx-pps:   999999          Tx-bps:  1\n`;
    const out = [
      block(0, 5),
      block(1, 7),
      block(0, 100),
      block(1, 70),
      block(0, 300),
      block(1, 90),
      block(0, 200),
    ].join('');
    expect(testpmdRxPps(out)).to.equal(200);
    expect(testpmdRxPps(out, 1)).to.equal(90);
    expect(testpmdRxPps('no stats here')).to.equal(0);
  });
});
