import { CliChild, waitForFile } from './cli-runs';
import type { CliCommand, CliRun } from './cli-runs';
import { generatorArgs, linkUp, sleep, socketPath, testpmd } from './peers';
import { testpmdRxPps } from './testpmd-output';

/**
 * `rx-memif echo --queues Q --workers W` (server, CPU 0, every thread of it) fed by testpmd
 * flowgen with Q queue pairs (client, forwarding on CPU 1): flowgen's receive rate, and the CPU
 * time per packet of each thread that carried queues, from echo's summary (`cpuMs`, `queues`).
 * With W = 0 the queues run on echo's main thread.
 */

/** CPU time per packet of one thread: a worker (its queues' packets) or the main thread. */
export interface ThreadCost {
  /** `main`, or the worker's index. */
  readonly thread: string;
  readonly packets: number;
  readonly cpuMs: number;
  /** ns of CPU per packet received (each also sent back). */
  readonly nsPerPacket: number;
}

export interface WorkersRun extends CliRun {
  readonly threads: ThreadCost[];
}

type Json = Record<string, unknown>;

/** Per-thread costs from an echo summary. */
const threadCosts = (s: Json | undefined, workers: number): ThreadCost[] => {
  const cpu = s?.cpuMs as { main: number; workers: (number | null)[] } | undefined;
  const queues = (s?.queues as { queue: number; rx: number }[] | undefined) ?? [];
  if (!cpu) return [];
  const cost = (thread: string, packets: number, cpuMs: number): ThreadCost => ({
    thread,
    packets,
    cpuMs,
    nsPerPacket: packets > 0 ? (cpuMs * 1e6) / packets : NaN,
  });
  const all = queues.reduce((n, q) => n + q.rx, 0);
  if (workers === 0) return [cost('main', all, cpu.main)];
  return [
    cost('main', all, cpu.main),
    ...cpu.workers.map((ms, w) =>
      cost(
        String(w),
        queues.filter((q) => q.queue % workers === w).reduce((n, q) => n + q.rx, 0),
        ms ?? NaN,
      ),
    ),
  ];
};

export const echoWorkersFromTestpmd = async (
  cli: CliCommand,
  queues: number,
  workers: number,
  secs: number,
): Promise<WorkersRun> => {
  const socket = socketPath();
  const both = [`--rxq=${queues}`, `--txq=${queues}`];
  const args = ['echo', '--role', 'server', '--socket', socket, '--queues', String(queues)];
  const echo = new CliChild(cli, 0, [...args, '--workers', String(workers)]);
  let flowgen;
  try {
    await waitForFile(socket);
    flowgen = testpmd('client', socket, 'flowgen', 1, [...generatorArgs(64), ...both]);
    await linkUp(flowgen);
    await sleep((secs + 1.5) * 1000);
    const rate = testpmdRxPps(flowgen.output);
    const stats = (await flowgen.stop())[0];
    await echo.stop();
    return {
      rate,
      ok: stats !== undefined && echo.summary() !== undefined,
      threads: threadCosts(echo.summary(), workers),
    };
  } catch (e) {
    console.error(
      `  echo --workers ${workers} ← flowgen failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`,
    );
    return { rate: 0, ok: false, threads: [] };
  } finally {
    await flowgen?.stop();
    await echo.stop();
    await flowgen?.closed;
  }
};
