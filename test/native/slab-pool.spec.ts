import { expect } from 'chai';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { loadNative } from '../../src/native-bridge';
import { SLAB_TOTAL } from '../../src/streams/rx-port';

/*
 * The receive slab pool (native/slab_pool.cc): a slab comes back for reuse only once no view of
 * it is reachable, so copy-mode packets stay valid for as long as they are held.
 */

const native = loadNative();
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const turn = () => new Promise<void>((r) => setImmediate(r));

/** Collects garbage and lets the finalizers (which run on the JS thread) return slabs. */
const collect = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
};

const MARK = 0x5a17c0de;

/** Takes `n` slabs and says whether one of them starts with `mark` (the same memory again). */
const seen = (n: number, mark: number): boolean => {
  const slabs = Array.from({ length: n }, () => native.takeSlab());
  return slabs.some((s) => s !== undefined && new Uint32Array(s, 0, 1)[0] === mark);
};

describe('native: receive slab pool (takeSlab)', () => {
  // Slabs taken by an earlier test come back first (at most 32 are out at once).
  beforeEach(collect);

  it('hands out slabs of SLAB_TOTAL bytes', () => {
    const slab = native.takeSlab();
    expect(slab).to.be.instanceOf(ArrayBuffer);
    expect(slab!.byteLength).to.equal(SLAB_TOTAL);
  });

  it('reuses a slab once nothing refers to it', async () => {
    const mark = (MARK ^ Date.now()) >>> 0;
    (() => {
      new Uint32Array(native.takeSlab()!, 0, 1)[0] = mark;
    })();
    await collect();
    expect(seen(25, mark)).to.equal(true);
  });

  it('never reuses a slab a packet view still holds, however many GCs run', async () => {
    const mark = (MARK ^ (Date.now() + 1)) >>> 0;
    const packet = (() => {
      const slab = native.takeSlab()!;
      new Uint32Array(slab, 0, 1)[0] = mark;
      const view = new Uint8Array(slab, 4, 60).fill(0xab);
      return view;
    })();
    await collect();
    expect(seen(25, mark)).to.equal(false);
    await collect();
    expect(packet.every((b) => b === 0xab)).to.equal(true);
    expect(new Uint32Array(packet.buffer, 0, 1)[0]).to.equal(mark);
  });

  it('stops handing out slabs while 32 are out (the caller then allocates in JS)', async () => {
    const held = Array.from({ length: 40 }, () => native.takeSlab());
    expect(held.filter((s) => s !== undefined).length).to.equal(32);
    held.length = 0;
    await collect();
    expect(native.takeSlab()).to.be.instanceOf(ArrayBuffer);
  });

  it('does not run dry when nothing holds packets: slabs dropped young come back', async () => {
    // Copy-mode receive allocates next to nothing besides slabs, so taking one must itself let V8
    // collect the young ones (a scavenge every ~7 slabs): without that, nothing starts a GC here
    // and the pool is dry after 32 of the 200.
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const slab = native.takeSlab();
      if (slab === undefined) refused++;
      else new Uint8Array(slab, 0, 64).fill(i);
      // Finalizers, which return slabs, run as immediates.
      await turn();
    }
    expect(refused, 'slabs refused').to.equal(0);
  });

  it('does not run dry in a worker either (the pool and its scavenges are per environment)', async () => {
    const addon =
      process.env.RX_MEMIF_ADDON ?? path.resolve(__dirname, '../../build/Release/rx_memif.node');
    const code = `
      const { parentPort } = require('node:worker_threads');
      const native = require(${JSON.stringify(addon)});
      (async () => {
        let refused = 0;
        for (let i = 0; i < 100; i++) {
          if (native.takeSlab() === undefined) refused++;
          await new Promise((r) => setImmediate(r));
        }
        parentPort.postMessage(refused);
      })();
    `;
    const worker = new Worker(code, { eval: true });
    const exited = new Promise((r) => worker.once('exit', r));
    // A worker that fails or ends without a word fails the spec instead of hanging it.
    const refused = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      void exited.then((code) => reject(new Error(`the worker exited (${String(code)}) silently`)));
    });
    await exited;
    expect(refused, 'slabs refused in the worker').to.equal(0);
  });

  it('a worker that exits with slabs out tears down cleanly', async () => {
    const addon =
      process.env.RX_MEMIF_ADDON ?? path.resolve(__dirname, '../../build/Release/rx_memif.node');
    const code = `
      const native = require(${JSON.stringify(addon)});
      globalThis.kept = [native.takeSlab(), native.takeSlab()];
      native.takeSlab();
    `;
    const worker = new Worker(code, { eval: true });
    const exit = await new Promise<number>((r) => worker.on('exit', r));
    expect(exit).to.equal(0);
  });
});
