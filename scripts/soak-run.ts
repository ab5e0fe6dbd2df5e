/**
 * The lossless soak of issue #7 item 5, shared by `npm run soak` (scripts/soak.ts) and
 * test/hardening/soak.spec.ts: `rx-memif sink --check --count N` (server) and `rx-memif gen
 * --one-way --count N` (client) as two processes over a socket in a temporary directory, N frames
 * of mixed sizes, every one checked for sequence and content on arrival.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childEnv, compiledSources } from '../test/hardening/fixture';

/** How to start `rx-memif`: `command ...args <rx-memif arguments>`. */
export interface CliCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `rx-memif` from the sources, transpiled to plain JS once (bin/ runs dist/, which may be older).
 * Not through ts-node: a child holding the TypeScript compiler in its heap ran the soak 2-3 times
 * slower, each of the full collections that the receive slabs' turnover sets off having to mark
 * that heap too.
 */
export const sourcesCli = (): CliCommand => ({
  command: process.execPath,
  args: [path.join(compiledSources(), 'src', 'cli', 'main.js')],
  env: childEnv(),
});

export interface SoakOptions {
  readonly frames: number;
  /** `--size` of gen: `S` or `A..B`. */
  readonly sizes: string;
  readonly cli: CliCommand;
  /** Interface options given to both sides (e.g. `--rsize 12`). */
  readonly interfaceArgs?: readonly string[];
  /** Gives up when the sink receives nothing for this long (a stall, not a slow run). */
  readonly stallSecs?: number;
  /** Called with a progress line every `progressSecs` (the sink's stats). */
  readonly progress?: (line: string) => void;
  readonly progressSecs?: number;
  /** Aborting stops both processes (SIGTERM, then SIGKILL); the result then shows the loss. */
  readonly signal?: AbortSignal;
}

type Drops = Record<string, number>;

export interface SoakResult {
  readonly frames: number;
  /** Frames the sink received intact and in sequence. */
  readonly received: number;
  /** Frames gen handed to the ring. */
  readonly sent: number;
  readonly bytes: number;
  /** From the first frame received to the last. */
  readonly secs: number;
  readonly mpps: number;
  /** Frame bytes (no wire overhead) a second, in Gbit/s. */
  readonly gbps: number;
  readonly lost: number;
  readonly corrupt: number;
  readonly outOfOrder: number;
  readonly foreign: number;
  readonly drops: { readonly sink: Drops; readonly gen: Drops };
  readonly exit: { readonly sink: number | null; readonly gen: number | null };
  /** Why the run ended early, if it did: `stalled`, `aborted`. */
  readonly interrupted?: string;
  /** Nothing lost, corrupt, out of order or dropped, all N received, both exit 0. */
  readonly ok: boolean;
}

type Json = Record<string, unknown>;

/** A child whose stdout is read as JSON lines. */
interface Child {
  readonly process: ChildProcess;
  readonly lines: Json[];
  readonly exited: Promise<number | null>;
  stderr: string;
}

const start = (cli: CliCommand, args: string[], onLine: (l: Json) => void): Child => {
  const p = spawn(cli.command, [...cli.args, ...args], {
    env: cli.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const child: Child = {
    process: p,
    lines: [],
    stderr: '',
    exited: new Promise((resolve) => {
      p.on('close', (code) => resolve(code));
      // Could not be started at all (no 'close' follows).
      p.on('error', (e) => {
        child.stderr += String(e);
        resolve(null);
      });
    }),
  };
  let partial = '';
  p.stdout?.on('data', (b: Buffer) => {
    const parts = (partial + b.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      if (text.trim() === '') continue;
      let line: Json;
      try {
        line = JSON.parse(text) as Json;
      } catch {
        line = { event: 'text', text };
      }
      child.lines.push(line);
      onLine(line);
    }
  });
  p.stderr?.on('data', (b: Buffer) => (child.stderr += b.toString()));
  return child;
};

const isRunning = (c: Child | undefined): c is Child =>
  c !== undefined && c.process.exitCode === null && c.process.signalCode === null;

const exitWithin = async (c: Child, ms: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([c.exited, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
};

/**
 * After `graceMs` (a Ctrl-C reached the children too: they are stopping by themselves, and a
 * second signal would kill them before their summary), SIGTERM; SIGKILL 5 s later.
 */
const stop = async (c: Child | undefined, graceMs = 0): Promise<void> => {
  if (!isRunning(c)) return;
  if (graceMs > 0) await exitWithin(c, graceMs);
  if (!isRunning(c)) return;
  c.process.kill('SIGTERM');
  await exitWithin(c, 5000);
  if (isRunning(c)) c.process.kill('SIGKILL');
  await c.exited;
};

const summaryOf = (c: Child): Json | undefined => c.lines.find((l) => l.event === 'summary');
const num = (j: Json | undefined, key: string): number => {
  const v = j?.[key];
  return typeof v === 'number' ? v : 0;
};
const sub = (j: Json | undefined, key: string): Json | undefined => {
  const v = j?.[key];
  return typeof v === 'object' && v !== null ? (v as Json) : undefined;
};

const childReport = (c: Child, name: string): string =>
  `${name} exited ${c.process.exitCode ?? c.process.signalCode}:\n${c.stderr}` +
  c.lines
    .filter((l) => l.event !== 'stats')
    .map((l) => JSON.stringify(l))
    .join('\n');

/** One stats line of the sink as a progress line. */
const progressLine = (frames: number, l: Json): string => {
  const rx = sub(l, 'rx');
  const packets = num(rx, 'packets');
  return (
    `${num(l, 'secs').toFixed(0).padStart(5)} s  ${(packets / 1e6).toFixed(2).padStart(8)} M frames` +
    ` (${((packets / frames) * 100).toFixed(1).padStart(5)} %)` +
    `  ${(num(rx, 'pps') / 1e6).toFixed(3)} Mpps  ${(num(rx, 'bps') / 1e9).toFixed(2)} Gbit/s` +
    `  drops ${JSON.stringify(l.drops ?? {})}`
  );
};

/** Runs one soak to its end; rejects only when a process cannot be started or never listens. */
export const runSoak = async (o: SoakOptions): Promise<SoakResult> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-soak-'));
  const socket = path.join(dir, 'memif.sock');
  const common = ['--socket', socket, '--json', ...(o.interfaceArgs ?? [])];
  const stallMs = (o.stallSecs ?? 30) * 1000;
  const progressMs = (o.progressSecs ?? 1) * 1000;
  let sink: Child | undefined;
  let gen: Child | undefined;
  let interrupted: string | undefined;
  let lastPackets = -1;
  let lastMove = performance.now();
  let lastProgress = 0;
  const onAbort = () => {
    interrupted ??= 'aborted';
    void stop(gen, 2000);
    void stop(sink, 2000);
  };
  o.signal?.addEventListener('abort', onAbort);
  let listening: () => void = () => undefined;
  const listens = new Promise<void>((resolve) => (listening = resolve));
  // A stall: connected, yet no frame for stallMs. Both are told to stop: the sink then counts
  // what never came as lost.
  const watchdog = setInterval(() => {
    if (gen && performance.now() - lastMove > stallMs) {
      interrupted ??= 'stalled';
      void stop(gen);
      void stop(sink);
    }
  }, 1000);
  try {
    const countArgs = ['--count', String(o.frames)];
    sink = start(o.cli, ['sink', '--role', 'server', '--check', ...countArgs, ...common], (l) => {
      const state = sub(l, 'state');
      if (l.event === 'state' && state?.status === 'listening') listening();
      if (l.event !== 'stats') return;
      const packets = num(sub(l, 'rx'), 'packets');
      const now = performance.now();
      if (packets !== lastPackets) {
        lastPackets = packets;
        lastMove = now;
      }
      if (o.progress && now - lastProgress >= progressMs - 50) {
        lastProgress = now;
        o.progress(progressLine(o.frames, l));
      }
    });
    await Promise.race([
      listens,
      sink.exited.then(() => {
        throw new Error(`the sink never listened: ${childReport(sink as Child, 'sink')}`);
      }),
    ]);
    if (interrupted) throw new Error('aborted before the soak started');
    lastMove = performance.now();
    gen = start(
      o.cli,
      ['gen', '--role', 'client', '--one-way', ...countArgs, '--size', o.sizes, ...common],
      () => undefined,
    );
    // gen ends once all frames are in the ring, or at the sink's leaving; if it failed, the rest
    // will never come: the sink is stopped (and counts it lost).
    void gen.exited.then((code) => (code === 0 ? undefined : stop(sink, 2000)));
    const [sinkExit, genExit] = await Promise.all([sink.exited, gen.exited]);
    const s = summaryOf(sink);
    const g = summaryOf(gen);
    if (!s) throw new Error(`no summary from the sink: ${childReport(sink, 'sink')}`);
    const bytes = num(sub(s, 'rx'), 'bytes');
    const secs = num(s, 'secs');
    const result = {
      frames: o.frames,
      received: num(s, 'received'),
      sent: num(g, 'sent'),
      bytes,
      secs,
      mpps: num(sub(s, 'rx'), 'mpps'),
      gbps: secs > 0 ? Number(((bytes * 8) / secs / 1e9).toFixed(3)) : 0,
      lost: num(s, 'lost'),
      corrupt: num(s, 'corrupt'),
      outOfOrder: num(s, 'outOfOrder'),
      foreign: num(s, 'foreign'),
      drops: { sink: (sub(s, 'drops') ?? {}) as Drops, gen: (sub(g, 'drops') ?? {}) as Drops },
      exit: { sink: sinkExit, gen: genExit },
      ...(interrupted ? { interrupted } : {}),
    };
    const clean =
      result.lost === 0 &&
      result.corrupt === 0 &&
      result.outOfOrder === 0 &&
      result.foreign === 0 &&
      Object.keys(result.drops.sink).length === 0 &&
      Object.keys(result.drops.gen).length === 0;
    const ok =
      clean && !interrupted && result.received === o.frames && sinkExit === 0 && genExit === 0;
    return { ...result, ok };
  } finally {
    clearInterval(watchdog);
    o.signal?.removeEventListener('abort', onAbort);
    await Promise.all([stop(gen), stop(sink)]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

/** The result as one human line. */
export const formatSoak = (r: SoakResult): string =>
  `soak: ${r.frames} frames (${r.received} received intact, ${r.sent} sent), ` +
  `${(r.bytes / 1e9).toFixed(2)} GB in ${r.secs.toFixed(1)} s: ${r.mpps.toFixed(3)} Mpps, ` +
  `${r.gbps.toFixed(2)} Gbit/s; lost ${r.lost}, corrupt ${r.corrupt}, out of order ` +
  `${r.outOfOrder}, foreign ${r.foreign}; drops sink ${JSON.stringify(r.drops.sink)} gen ` +
  `${JSON.stringify(r.drops.gen)}; exit sink ${r.exit.sink} gen ${r.exit.gen}` +
  `${r.interrupted ? `; ${r.interrupted}` : ''}: ${r.ok ? 'PASS' : 'FAIL'}`;
