import { expect } from 'chai';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/** A forced full GC without `node --expose-gc` (mocha runs without it). */
export const forceGc = (): void => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
};

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** RSS split as the kernel counts it (anonymous, file-backed, shared memory), and the JS heap. */
export const memory = () => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kib = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return {
    rss,
    anon: kib('RssAnon'),
    file: kib('RssFile'),
    shmem: kib('RssShmem'),
    heapUsed,
    heapTotal,
    external,
  };
};
export type Memory = ReturnType<typeof memory>;

export const showMemory = (m: Memory): string =>
  `RSS ${mib(m.rss)} (anon ${mib(m.anon)}, file ${mib(m.file)}, shmem ${mib(m.shmem)}), ` +
  `JS heap ${mib(m.heapUsed)} used of ${mib(m.heapTotal)}, external ${mib(m.external)}`;

/**
 * A suite-level check that a series of faults leaves memory where it found it: sampled after a
 * forced GC before the first test and after the last one. Mappings (shmem) and ArrayBuffers
 * (external) must be back; the JS heap gets the bound of the kill campaigns. RSS as a whole also
 * holds JIT code and what malloc keeps for reuse: the faults suite run three times in one
 * process went 146 → 184 MiB, then 184 → 184 MiB — a plateau, not a leak — so RSS gets the kill
 * campaigns' loose bound from the start.
 */
export const useMemoryCheck = (): void => {
  let start: Memory | undefined;
  before(() => {
    forceGc();
    start = memory();
  });
  after(() => {
    if (!start) return;
    forceGc();
    const end = memory();
    console.log(`      memory at the start: ${showMemory(start)}`);
    console.log(`      memory at the end:   ${showMemory(end)} (each after a forced GC)`);
    expect(end.shmem, 'shared memory still mapped').to.be.at.most(start.shmem);
    expect(end.external - start.external, 'ArrayBuffers still held').to.be.below(2 * 2 ** 20);
    expect(end.heapUsed - start.heapUsed, 'JS heap growth').to.be.below(8 * 2 ** 20);
    expect(end.rss - start.rss, 'RSS growth').to.be.below(64 * 2 ** 20);
  });
};
