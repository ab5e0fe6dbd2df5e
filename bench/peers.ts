import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testpmd } from '../test/helpers/testpmd';
import type { PortStats } from '../test/helpers/testpmd';
import { testpmdRxPps } from './testpmd-output';

/**
 * Placement (docs/tuning.md): the bench process, and so every rx-memif interface it opens, is
 * pinned to CPU 0 by `taskset -c 0` in the npm script; an rx-memif child that reflects runs on
 * CPU 0 as well, a child that generates on CPU 1. testpmd runs its EAL main lcore (control and
 * the per-second stats, nearly idle) on one CPU and forwards on the other: the side in
 * rx-memif's place (reflector or receiver) forwards on CPU 0, the generator on CPU 1, in the
 * reference runs as in ours. So a reference and the rx-memif runs it is compared with use the
 * same CPUs for the same jobs, and only the code on CPU 0 differs.
 */
export type Cpu = 0 | 1;
export type Role = 'server' | 'client';

export const otherRole = (r: Role): Role => (r === 'server' ? 'client' : 'server');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-bench-'));
let sockets = 0;
export const socketPath = (): string => path.join(tmp, `b${++sockets}.sock`);
export const removeSockets = (): void => fs.rmSync(tmp, { recursive: true, force: true });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Generator arguments for `size`-byte frames: testpmd builds a frame in one mbuf, so a 9000 B
 * frame needs a larger mbuf (`--mbuf-size`, given before `--txpkts`, which is checked against
 * it). The memif buffers stay 2048 bytes (the client's default on both sides): such frames
 * travel as chains.
 */
export const generatorArgs = (size: number): string[] => [
  ...(size + 128 > 2176 ? [`--mbuf-size=${Math.ceil((size + 256) / 1024) * 1024}`] : []),
  `--txpkts=${size}`,
  '--burst=32',
];

/** testpmd in `mode`, forwarding on `cpu` (its main lcore on the other one). */
export const testpmd = (
  role: Role,
  socket: string,
  mode: string,
  cpu: Cpu,
  args: string[] = [],
): Testpmd =>
  new Testpmd({
    role,
    socket,
    forwardMode: mode,
    mainLcore: cpu === 0 ? 1 : 0,
    // Not locking 1 GiB at start saves most of testpmd's start-up; the mbuf pool is touched
    // when it is created either way.
    mlockall: false,
    args,
  });

/** The memif link of a testpmd is up (both roles log this at debug level). */
export const linkUp = (t: Testpmd, ms = 15000): Promise<unknown> =>
  t.waitFor(/memif_connect\(\): Connected/, ms);

export interface PairRun {
  /** The generator's (round trip) or receiver's (one way) steady receive rate, packets/s. */
  readonly rate: number;
  readonly generator?: PortStats;
}

/**
 * testpmd ↔ testpmd, the reference: a reflector (`io`) or receiver (`rxonly`) in `role`
 * forwarding on CPU 0, fed by a generator (`flowgen` or `txonly`) forwarding on CPU 1. The rate
 * is read on the side that receives the traffic measured. A crash (testpmd 22.11 sometimes
 * dies when its peer connects or leaves) reads 0; the caller retries.
 */
export const testpmdPair = async (
  role: Role,
  mode: 'io' | 'rxonly',
  generatorMode: 'flowgen' | 'txonly',
  size: number,
  secs: number,
  /** More testpmd arguments for both sides (`--rxq=2 --txq=2`). */
  both: string[] = [],
): Promise<PairRun> => {
  const socket = socketPath();
  const started: Testpmd[] = [];
  try {
    const start = (r: Role) => {
      const t =
        r === role
          ? testpmd(r, socket, mode, 0, both)
          : testpmd(r, socket, generatorMode, 1, [...generatorArgs(size), ...both]);
      started.push(t);
      return t;
    };
    const server = start('server');
    await server.ready();
    const client = start('client');
    const [reflector, generator] = role === 'server' ? [server, client] : [client, server];
    await linkUp(server);
    await sleep((secs + 1.5) * 1000);
    // Stop the measured side first: a memif port's counters read 0 once its peer is gone.
    const measured = mode === 'rxonly' ? reflector : generator;
    const stats = await measured.stop();
    return {
      rate: testpmdRxPps(measured.output),
      generator: measured === generator ? stats[0] : undefined,
    };
  } catch (e) {
    console.error(`  reference failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    return { rate: 0 };
  } finally {
    for (const t of started) await t.stop();
    await Promise.all(started.map((t) => t.closed));
  }
};
