import { expect } from 'chai';
import { BenchUsageError, ROWS, parseBenchArgs } from '../../bench/options';

describe('bench options', () => {
  it('runs everything by default, 3 s and 2 rounds; --quick shortens', () => {
    const full = parseBenchArgs([]);
    expect([...full.rows]).to.deep.equal([...ROWS]);
    expect(full).to.include({ secs: 3, rounds: 2, quick: false });
    expect(full.roundTripSizes).to.deep.equal([64, 1500, 9000]);
    const quick = parseBenchArgs(['--quick']);
    expect(quick).to.include({ secs: 1, rounds: 1, quick: true });
    expect(quick.latencySamples).to.be.below(full.latencySamples);
  });

  it('--only picks rows, comma-separated or repeated; flags beat the environment', () => {
    expect([...parseBenchArgs(['--only', 'cli,latency']).rows]).to.deep.equal(['cli', 'latency']);
    expect([...parseBenchArgs(['--only', 'one-way', '--only', 'cli']).rows]).to.deep.equal([
      'one-way',
      'cli',
    ]);
    expect(parseBenchArgs([], { BENCH_SECS: '5', BENCH_ROUNDS: '4' })).to.include({
      secs: 5,
      rounds: 4,
    });
    expect(parseBenchArgs(['--secs', '2'], { BENCH_SECS: '5' }).secs).to.equal(2);
  });

  it('refuses unknown rows, unknown flags and bad numbers', () => {
    expect(() => parseBenchArgs(['--only', 'everything'])).to.throw(BenchUsageError, /unknown row/);
    expect(() => parseBenchArgs(['--fast'])).to.throw(BenchUsageError);
    expect(() => parseBenchArgs(['--secs', '0'])).to.throw(BenchUsageError);
    expect(() => parseBenchArgs(['--rounds', '1.5'])).to.throw(BenchUsageError);
  });
});
