import { expect } from 'chai';
import { formatSoak, runSoak, sourcesCli } from '../../scripts/soak-run';
import { genSize } from '../../src/cli/frames';
import { envCount } from './prng';

/**
 * Issue #7 item 5 in CI: SOAK_FRAMES (10^7 by default) frames of 64..9000 bytes between two
 * rx-memif processes in lossless mode, every one checked on arrival (`npm run soak` runs 10^8).
 */
describe('hardening: lossless soak between two rx-memif processes', function () {
  const frames = envCount('SOAK_FRAMES', 10_000_000);
  // A stall ends the run after 30 s without a frame; this bounds a slow one (20k frames/s).
  this.timeout(120_000 + frames / 20);

  it(`${frames} frames of 64..9000 bytes: all received, 0 lost, 0 corrupt, 0 out of order`, async () => {
    const result = await runSoak({
      frames,
      sizes: '64..9000',
      cli: sourcesCli(),
      progress: (line) => console.log(`      ${line}`),
      progressSecs: 15,
    });
    console.log(`      ${formatSoak(result)}`);
    expect(result.interrupted, 'the run ended early').to.equal(undefined);
    expect(result).to.deep.include({
      received: frames,
      sent: frames,
      lost: 0,
      corrupt: 0,
      outOfOrder: 0,
      foreign: 0,
      drops: { sink: {}, gen: {} },
      exit: { sink: 0, gen: 0 },
      ok: true,
    });
    // Sizes follow from the sequence numbers: the byte count is known exactly.
    let bytes = 0;
    for (let seq = 0; seq < frames; seq++) bytes += genSize(seq, 64, 9000);
    expect(result.bytes).to.equal(bytes);
  });
});
