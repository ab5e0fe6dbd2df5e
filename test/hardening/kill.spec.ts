import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { MemifInterface } from '../../src/index';
import { memif } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { tempDir } from '../helpers/states';
import { childEnv, compiledSources, runToEnd } from './fixture';
import { StateLog, fdCount, fdTable, until } from './hostile-peer';
import { envCount } from './prng';

/** A forced full GC without `node --expose-gc` (mocha runs without it). */
const forceGc = (): void => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
};

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** RSS split as the kernel counts it (anonymous, file-backed, shared memory), and the JS heap. */
const memory = () => {
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
const showMemory = (m: ReturnType<typeof memory>): string =>
  `RSS ${mib(m.rss)} (anon ${mib(m.anon)}, file ${mib(m.file)}, shmem ${mib(m.shmem)}), ` +
  `JS heap ${mib(m.heapUsed)} used of ${mib(m.heapTotal)}, external ${mib(m.external)}`;

/**
 * Issue #7 item 3, the peer that dies: `rx-memif echo` runs as the server in a child process,
 * our client sends flat out, and the child is killed with SIGKILL mid-burst, then started again,
 * HARDENING_KILLS times (20 by default). Each time our client must go disconnected, then
 * connected to the new server; at the end its fds must be exactly as before and its RSS near.
 */
describe('hardening: a server killed with SIGKILL mid-burst, again and again', function () {
  // Longer than .mocharc's 20 s: this machine is loaded and shared.
  this.timeout(180_000);
  const native = loadNative();
  const kills = envCount('HARDENING_KILLS', 20);

  it(`our client survives ${kills} kills of a flat-out echo server`, async () => {
    const { dir, cleanup } = tempDir();
    const js = compiledSources();
    const socket = path.join(dir, 'echo.sock');
    // libuv opens /dev/null and its signal pipes on the first spawn: not a leak.
    await runToEnd(process.execPath, ['-e', '']);
    forceGc();
    const fds0 = fdCount();
    const handles0 = native.liveHandles();
    const mem0 = memory();

    let client: MemifInterface | undefined;
    let child: ChildProcess | undefined;
    let stop = false;
    const timings: number[] = [];
    const warmRounds = Math.min(5, kills);
    let memWarm = mem0;
    let echoed = 0;
    try {
      client = memif({ role: 'client', socket, retry: { initialMs: 20 } });
      const log = new StateLog(client);
      client.rx().subscribe(() => echoed++);
      const tx = client.txBursts();
      const burst = Array.from({ length: 64 }, (_, i) => new Uint8Array(64).fill(i));
      const pump = () => {
        if (stop) return;
        tx.next(burst);
        setImmediate(pump);
      };
      setImmediate(pump);

      for (let i = 0; i < kills; i++) {
        const t0 = Date.now();
        const mark = log.length;
        child = spawn(
          process.execPath,
          [path.join(js, 'src/cli/main.js'), 'echo', '--role', 'server', '--socket', socket],
          { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
        const exited = new Promise<void>((resolve) => child?.on('close', () => resolve()));
        const up = await log
          .waitFor((s) => s.status === 'connected', mark, 15000, `connected (round ${i + 1})`)
          .catch((e: Error) => {
            throw new Error(`${e.message}\nchild stderr: ${stderr}`);
          });
        const at = log.states.indexOf(up);
        // Mid-burst: wait for echoes of this connection to flow, then kill without warning.
        const before = echoed;
        await until(
          () => echoed - before >= 2000,
          () => `echoes in round ${i + 1}: ${echoed - before}`,
          10000,
        );
        child.kill('SIGKILL');
        await exited;
        child = undefined;
        const down = await log.waitFor(
          (s) => s.status === 'disconnected',
          at,
          5000,
          `disconnected (round ${i + 1})`,
        );
        expect(down).to.include({ by: 'peer' });
        timings.push(Date.now() - t0);
        if (i === warmRounds - 1) {
          // The first connections grow the process to its working size (JIT code, allocator
          // arenas, receive slabs); what follows must not grow it further.
          forceGc();
          memWarm = memory();
        }
      }
      const statuses = log.states.map((s) => s.status);
      const ups = statuses.filter((s) => s === 'connected').length;
      const downs = log.states.filter((s) => s.status === 'disconnected' && s.by === 'peer').length;
      expect(ups, 'connected once per round').to.equal(kills);
      expect(downs, 'disconnected by the peer once per round').to.equal(kills);
      const tx0 = client.stats().tx[0];
      console.log(
        `      ${kills} kills survived; ${echoed} echoes received, ${tx0.packets} sent; ` +
          `round trip (start, connect, 2000 echoes, kill, disconnect) ` +
          `median ${timings.sort((a, b) => a - b)[timings.length >> 1]} ms`,
      );
    } finally {
      stop = true;
      if (child) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child?.on('close', resolve));
      }
      await client?.close();
      cleanup();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    forceGc();
    const fds1 = fdCount();
    const mem1 = memory();
    console.log(
      `      fds ${fds0} -> ${fds1}; native handles ${handles0} -> ${native.liveHandles()}`,
    );
    console.log(`      ${'at the start:'.padEnd(17)} ${showMemory(mem0)}`);
    console.log(`      ${`after ${warmRounds} rounds:`.padEnd(17)} ${showMemory(memWarm)}`);
    console.log(`      ${`after ${kills} rounds:`.padEnd(17)} ${showMemory(mem1)}`);
    console.log('      (each after a forced GC)');
    expect(native.liveHandles(), 'native handles').to.equal(handles0);
    expect(fds1, `fds:\n${fdTable().join('\n')}`).to.equal(fds0);
    // Each connection mapped a 4 MiB region and freed it: nothing of it may stay mapped, and
    // the JS heap must not grow per connection. RSS as a whole also holds what the allocator
    // keeps for reuse and JIT code, so it gets a loose bound.
    expect(mem1.shmem, 'shared memory still mapped').to.be.at.most(mem0.shmem);
    expect(mem1.heapUsed - mem0.heapUsed, 'JS heap growth').to.be.below(8 * 2 ** 20);
    expect(mem1.rss - mem0.rss, 'RSS growth from the start').to.be.below(64 * 2 ** 20);
    expect(mem1.rss - memWarm.rss, `RSS growth after round ${warmRounds}`).to.be.below(
      16 * 2 ** 20,
    );
  });
});
