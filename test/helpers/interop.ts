import { expect } from 'chai';
import { memif } from '../../src/index';
import type { MemifInterface, MemifOptions } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { tempDir } from './states';
import { Testpmd, requireTestpmd } from './testpmd';
import type { TestpmdOptions } from './testpmd';

/**
 * The fixture of a live-peer suite: a temp dir per test, testpmd processes and our interfaces
 * that are stopped / closed after each test (testpmd first, since a test that failed half-way
 * may have left it running), and a check that no native handle was left open. Call it inside
 * `describe`; it skips (or, with CI=true, fails) the suite when testpmd is missing.
 */
export const useInterop = (retryMs = 100) => {
  const native = loadNative();
  const ctx = { dir: '' };
  let cleanup: () => void = () => undefined;
  let peers: Testpmd[] = [];
  let ifaces: MemifInterface[] = [];
  let baseline = 0;

  before(function () {
    requireTestpmd(this);
  });

  beforeEach(() => {
    ({ dir: ctx.dir, cleanup } = tempDir());
    baseline = native.liveHandles();
  });

  afterEach(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    await Promise.all(ifaces.map((i) => i.close()));
    peers = [];
    ifaces = [];
    cleanup();
    expect(native.liveHandles(), 'native handles left open').to.equal(baseline);
  });

  return {
    /** This test's temporary directory. */
    get dir(): string {
      return ctx.dir;
    },
    testpmd(options: TestpmdOptions): Testpmd {
      const t = new Testpmd(options);
      peers.push(t);
      return t;
    },
    ours(options: MemifOptions): MemifInterface {
      const i = memif({ retry: { initialMs: retryMs }, ...options });
      ifaces.push(i);
      return i;
    },
  };
};
