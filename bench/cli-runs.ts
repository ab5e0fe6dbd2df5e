import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Exchange } from './in-process';
import { generatorArgs, linkUp, sleep, socketPath, testpmd } from './peers';
import type { Cpu, Role } from './peers';
import { steadyRate } from './stats';
import { testpmdRxPps } from './testpmd-output';
import { traceGcMs } from './trace-gc';

/**
 * The `rx-memif` command as users run it (two processes, defaults but the socket), from
 * `--json` lines: gen ↔ echo, gen against a testpmd io server, echo fed by testpmd flowgen.
 * A reflecting child runs on CPU 0, a generating one on CPU 1 (see peers.ts).
 */

/** How to start `rx-memif`: `command ...args <arguments>`. */
export interface CliCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

type Json = Record<string, unknown>;

export class CliChild {
  readonly process: ChildProcess;
  readonly lines: Json[] = [];
  readonly exited: Promise<number | null>;
  private partial = '';
  private readonly started = performance.now();
  private ended: number | undefined;
  private gc = { ms: 0, majors: 0 };

  /** `traceGc`: run node with `--trace-gc` and add up what it reports (see {@link gcUse}). */
  constructor(cli: CliCommand, cpu: Cpu, args: string[], traceGc = false) {
    const node = traceGc ? ['--trace-gc'] : [];
    this.process = spawn(
      'taskset',
      ['-c', String(cpu), cli.command, ...node, ...cli.args, ...args, '--json'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: cli.env,
      },
    );
    this.process.stdout?.on('data', (b: Buffer) => {
      const text = this.partial + b.toString();
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) {
        const gc = traceGcMs(l);
        if (gc) {
          this.gc.ms += gc.ms;
          this.gc.majors += gc.major ? 1 : 0;
        } else if (l.startsWith('{'))
          try {
            this.lines.push(JSON.parse(l) as Json);
          } catch {
            // A line that is not JSON: not ours to read.
          }
      }
    });
    this.exited = new Promise((resolve) =>
      this.process.on('close', (code) => {
        this.ended = performance.now();
        resolve(code);
      }),
    );
  }

  /** GC time over the child's life (start-up included), from `--trace-gc`. */
  gcUse(): ChildGc {
    return {
      gcMs: this.gc.ms,
      wallMs: (this.ended ?? performance.now()) - this.started,
      majorGcs: this.gc.majors,
    };
  }

  /** The stats lines' rx pps, one a second. */
  rxPps(): number {
    return steadyRate(
      this.lines
        .filter((l) => l.event === 'stats')
        .map((l) => Number((l.rx as { pps?: number } | undefined)?.pps ?? 0)),
    );
  }

  summary(): Json | undefined {
    return this.lines.find((l) => l.event === 'summary');
  }

  /** SIGINT (the command's own clean stop), SIGKILL after `ms`. */
  async stop(ms = 10000): Promise<void> {
    if (this.process.exitCode === null && this.process.signalCode === null)
      this.process.kill('SIGINT');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }
}

export const waitForFile = async (file: string, ms = 10000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear in ${ms} ms`);
    await sleep(50);
  }
};

/** The reflector's counts from an echo summary (`rx`, `tx`, `drops`). */
const echoExchange = (
  summary: Json | undefined,
  gen?: { tx?: number; rx?: number; dropped?: number },
): Exchange | undefined => {
  if (!summary) return undefined;
  const packets = (k: string) =>
    Number((summary[k] as { packets?: number } | undefined)?.packets ?? 0);
  return {
    generatorSent: gen?.tx,
    generatorDropped: gen?.dropped,
    reflectorReceived: packets('rx'),
    reflectorSent: packets('tx'),
    generatorReceived: gen?.rx,
    reflectorDrops: (summary.drops as Record<string, number> | undefined) ?? {},
  };
};

/** GC of an `rx-memif` child, read from `node --trace-gc`. */
export interface ChildGc {
  readonly gcMs: number;
  readonly wallMs: number;
  readonly majorGcs: number;
}

export interface CliRun {
  readonly rate: number;
  readonly ok: boolean;
  readonly exchange?: Exchange;
  /** The reflecting `rx-memif echo`'s GC. */
  readonly gc?: ChildGc;
}

const failed = (what: string, e: unknown): CliRun => {
  console.error(`  ${what} failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
  return { rate: 0, ok: false };
};

/** `rx-memif gen` (client, CPU 1) ↔ `rx-memif echo` (server, CPU 0): gen's receive rate. */
export const genToEcho = async (cli: CliCommand, secs: number): Promise<CliRun> => {
  const socket = socketPath();
  const echo = new CliChild(cli, 0, ['echo', '--role', 'server', '--socket', socket], true);
  let gen: CliChild | undefined;
  try {
    await waitForFile(socket);
    gen = new CliChild(cli, 1, [
      'gen',
      '--role',
      'client',
      '--socket',
      socket,
      '--size',
      '64',
      '--secs',
      String(secs + 1.5),
    ]);
    const code = await gen.exited;
    await echo.stop();
    const s = gen.summary();
    const counts = (k: string) =>
      Number((s?.[k] as { packets?: number } | undefined)?.packets ?? 0);
    return {
      rate: gen.rxPps(),
      ok: code === 0,
      exchange: echoExchange(echo.summary(), { tx: counts('tx'), rx: counts('rx') }),
      gc: echo.gcUse(),
    };
  } catch (e) {
    return failed('gen ↔ echo', e);
  } finally {
    await gen?.stop();
    await echo.stop();
  }
};

/** `rx-memif gen` (client, CPU 1) against a testpmd io server (forwarding on CPU 0). */
export const genToTestpmd = async (cli: CliCommand, secs: number): Promise<CliRun> => {
  const socket = socketPath();
  const io = testpmd('server', socket, 'io', 0);
  let gen: CliChild | undefined;
  try {
    await io.ready();
    gen = new CliChild(cli, 1, [
      'gen',
      '--role',
      'client',
      '--socket',
      socket,
      '--size',
      '64',
      '--secs',
      String(secs + 1.5),
    ]);
    const code = await gen.exited;
    const rate = gen.rxPps();
    const stats = await io.stop();
    // testpmd may crash as gen leaves: gen's own figure still stands.
    return { rate, ok: code === 0 && (rate > 0 || stats.length > 0) };
  } catch (e) {
    return failed('gen → testpmd io', e);
  } finally {
    await gen?.stop();
    await io.stop();
    await io.closed;
  }
};

/**
 * `rx-memif echo` in `role` (CPU 0) fed by testpmd flowgen (forwarding on CPU 1): flowgen's
 * receive rate, and what echo received and sent back (its summary) against what flowgen sent.
 */
export const echoFromTestpmd = async (
  cli: CliCommand,
  role: Role,
  secs: number,
): Promise<CliRun> => {
  const socket = socketPath();
  const peerRole: Role = role === 'server' ? 'client' : 'server';
  let echo: CliChild | undefined;
  const gen =
    role === 'client' ? testpmd(peerRole, socket, 'flowgen', 1, generatorArgs(64)) : undefined;
  let flowgen = gen;
  try {
    if (gen) await gen.ready();
    echo = new CliChild(cli, 0, ['echo', '--role', role, '--socket', socket], true);
    if (!flowgen) {
      await waitForFile(socket);
      flowgen = testpmd(peerRole, socket, 'flowgen', 1, generatorArgs(64));
    }
    await linkUp(flowgen);
    await sleep((secs + 1.5) * 1000);
    const rate = testpmdRxPps(flowgen.output);
    const stats = (await flowgen.stop())[0];
    await echo.stop();
    return {
      rate,
      ok: stats !== undefined,
      exchange: echoExchange(echo.summary(), {
        tx: stats?.txPackets,
        rx: stats?.rxPackets,
        dropped: stats?.txDropped,
      }),
      gc: echo.gcUse(),
    };
  } catch (e) {
    return failed(`echo (${role}) ← flowgen`, e);
  } finally {
    await flowgen?.stop();
    await echo?.stop();
    await flowgen?.closed;
  }
};
