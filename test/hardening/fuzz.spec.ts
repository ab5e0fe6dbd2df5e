import { expect } from 'chai';
import { loadNative } from '../../src/native-bridge';
import { tempDir } from '../helpers/states';
import { formatStats, fuzzOurClient, fuzzOurServer } from './fuzz-campaign';
import type { CampaignStats } from './fuzz-campaign';
import { fdCount, fdTable } from './hostile-peer';
import { useMemoryCheck } from './memory';
import { Prng, envCount, fuzzSeed } from './prng';

/**
 * A bounded fuzz run (issue #7 item 1): a hostile peer drives the handshake correctly up to a
 * random step, injects one random or mutated datagram (odd sizes, stray fds of every kind), and
 * our interface must answer correctly or end the connection with a reason; afterwards a good
 * peer connects and no fd or native handle is left behind. `npm run fuzz` runs 10^5 frames.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_SPEC_FRAMES=<n> changes the frames per role (default 2500).
 */
describe('hardening: fuzzed handshakes (hostile peer, both roles)', function () {
  // Longer than .mocharc's 20 s: this machine is loaded and shared.
  this.timeout(120_000);
  const native = loadNative();
  const seed = fuzzSeed();
  const perRole = envCount('FUZZ_SPEC_FRAMES', 2500);
  let dir: string;
  let cleanup: () => void;

  useMemoryCheck();
  before(() => console.log(`      fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`));
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  const carriedOn = (s: CampaignStats): number =>
    Object.entries(s.byOutcome)
      .filter(([k]) => k.startsWith('carried-on'))
      .reduce((sum, [, n]) => sum + n, 0);

  const campaign = async (run: typeof fuzzOurServer, salt: number): Promise<CampaignStats> => {
    const fds = fdCount();
    const handles = native.liveHandles();
    const stats = await run({ native, dir, prng: new Prng((seed + salt) >>> 0), frames: perRole });
    console.log(
      formatStats(stats)
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n'),
    );
    expect(stats.frames).to.equal(perRole);
    expect(native.liveHandles(), 'native handles').to.equal(handles);
    expect(fdCount(), `fds:\n${fdTable().join('\n')}`).to.equal(fds);
    console.log(`      fds ${fds} -> ${fdCount()}, native handles ${handles} -> ${handles}`);
    return stats;
  };

  it(`our server takes ${perRole} hostile frames, then serves a good client`, async () => {
    const stats = await campaign(fuzzOurServer, 0);
    // Every step was reached, and something was both refused and accepted.
    expect(stats.byStep.every((n) => n > 0)).to.equal(true);
    expect(stats.byOutcome.rejected ?? 0).to.be.greaterThan(0);
    expect(carriedOn(stats)).to.be.greaterThan(0);
  });

  it(`our client takes ${perRole} hostile frames, then connects to a good server`, async () => {
    const stats = await campaign(fuzzOurClient, 0x9e3779b9);
    expect(stats.byStep.every((n) => n > 0)).to.equal(true);
    expect(stats.byOutcome.rejected ?? 0).to.be.greaterThan(0);
    expect(carriedOn(stats)).to.be.greaterThan(0);
  });
});
