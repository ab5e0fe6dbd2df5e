/**
 * `npm run fuzz`: the long fuzz run of issue #7 item 1. A hostile peer (test/hardening/) drives
 * the handshake against our server and our client up to a random step and injects one random or
 * mutated datagram per connection; FUZZ_FRAMES frames in all (default 100000, half per role).
 * Checks that nothing crashes, that every connection ends with a reason or carries on correctly,
 * that a good peer connects afterwards and that no fd or native handle is left.
 *
 *   npm run fuzz                          # 10^5 frames, random seed (printed)
 *   FUZZ_SEED=1234 npm run fuzz           # replay
 *   FUZZ_FRAMES=20000 npm run fuzz        # shorter
 *
 * Exit status 0 when all held, 1 otherwise (the failing frame and the seed are printed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNative } from '../src/native-bridge';
import { formatStats, fuzzOurClient, fuzzOurServer } from '../test/hardening/fuzz-campaign';
import { fdCount, fdTable } from '../test/hardening/hostile-peer';
import { Prng, envCount, fuzzSeed } from '../test/hardening/prng';

const main = async (): Promise<number> => {
  const native = loadNative();
  const seed = fuzzSeed();
  const total = envCount('FUZZ_FRAMES', 100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-fuzz-'));
  console.log(`rx-memif fuzz: ${total} frames, seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const fds = fdCount();
  const handles = native.liveHandles();
  const started = Date.now();
  try {
    const server = await fuzzOurServer({
      native,
      dir,
      prng: new Prng(seed),
      frames: Math.ceil(total / 2),
      progress: (l) => console.log(`  ${l}`),
    });
    console.log(formatStats(server));
    const client = await fuzzOurClient({
      native,
      dir,
      prng: new Prng((seed + 0x9e3779b9) >>> 0),
      frames: Math.floor(total / 2),
      progress: (l) => console.log(`  ${l}`),
    });
    console.log(formatStats(client));
  } catch (e) {
    console.error(`FAILED: ${(e as Error).stack ?? String(e)}`);
    return 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const fdsAfter = fdCount();
  const handlesAfter = native.liveHandles();
  console.log(
    `done in ${((Date.now() - started) / 1000).toFixed(1)} s; fds ${fds} -> ${fdsAfter}, ` +
      `native handles ${handles} -> ${handlesAfter}`,
  );
  if (fdsAfter !== fds || handlesAfter !== handles) {
    console.error(`FAILED: leak\n${fdTable().join('\n')}`);
    return 1;
  }
  return 0;
};

void main().then((code) => {
  process.exitCode = code;
});
