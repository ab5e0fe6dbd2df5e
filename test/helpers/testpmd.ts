import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * DPDK's dpdk-testpmd as a live memif peer for tests (see docs/interop.md#dpdk-testpmd): unique
 * file prefix, no hugepages, output collected, stopped with SIGINT so that it prints its
 * statistics.
 */

let counter = 0;

/** testpmd clears the screen between stats blocks. */
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + '\\[[0-9;]*[A-Za-z]', 'g');

export const testpmdPath = (): string | undefined => {
  const r = spawnSync('sh', ['-c', 'command -v dpdk-testpmd'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
};

/**
 * Skips the suite when testpmd is missing, except under CI=true where that is a failure.
 * Call from a `before` hook: `before(function () { requireTestpmd(this); })`.
 */
export const requireTestpmd = (ctx: Mocha.Context): void => {
  if (testpmdPath()) return;
  const how = 'install it with `apt-get update && apt-get install -y dpdk dpdk-dev`';
  if (process.env.CI === 'true') throw new Error(`dpdk-testpmd is missing (CI=true): ${how}`);
  console.log(`      (skipped: dpdk-testpmd is missing; ${how})`);
  ctx.skip();
};

export interface TestpmdOptions {
  role: 'server' | 'client';
  socket: string;
  /** The `socket=` string is an abstract name (DPDK's default) rather than a file. */
  abstract?: boolean;
  id?: number;
  /** Extra devargs, e.g. `secret=abc`, `rsize=10`, `bsize=2048`. */
  devargs?: string[];
  /** Several ports: one `--vdev` per id (same socket). Overrides `id`. */
  ids?: number[];
  forwardMode?: string;
  /** More testpmd (after `--`) arguments. */
  args?: string[];
  lcores?: string;
  /** The EAL main lcore; forwarding runs on the other one of `lcores` (default 0). */
  mainLcore?: number;
  /**
   * EAL memory in MiB (`-m`) [1024]. 256 still holds `--total-num-mbufs=8192`. It matters for
   * start-up time only while testpmd locks its memory (see `mlockall`).
   */
  memoryMb?: number;
  /**
   * testpmd mlockall()s at start [true], which faults in all of its EAL memory: with 1024 MiB
   * it is ready in ~0.8 s here, with 256 in ~0.4 s, and without locking in ~0.3 s whatever the
   * size; a killed testpmd also dies faster. For suites that start it many times.
   */
  mlockall?: boolean;
}

/**
 * Where EAL keeps a process's runtime files (config, fbarrays, sockets): 3 to 13 MiB per prefix
 * that it never removes, not even on a clean exit (DPDK 22.11, eal_create_runtime_dir()).
 */
const runtimeDir = (prefix: string): string => {
  const base = process.getuid?.() === 0 ? '/var/run' : (process.env.XDG_RUNTIME_DIR ?? '/tmp');
  return path.join(base, 'dpdk', prefix);
};

export interface PortStats {
  rxPackets: number;
  rxDropped: number;
  txPackets: number;
  txDropped: number;
}

export class Testpmd {
  private readonly child: ChildProcess;
  private text = '';
  private exited: Promise<number | null>;
  /** Resolves once the process has exited and its output pipes are closed (fds released). */
  readonly closed: Promise<void>;
  readonly prefix: string;

  constructor(readonly options: TestpmdOptions) {
    this.prefix = `rxm-${process.pid}-${++counter}`;
    const ids = options.ids ?? [options.id ?? 0];
    const vdevs = ids.map((id, port) =>
      [
        `--vdev=net_memif${port},role=${options.role},id=${id},socket=${options.socket}`,
        `socket-abstract=${options.abstract ? 'yes' : 'no'}`,
        ...(options.devargs ?? []),
      ].join(','),
    );
    const args = [
      '-l',
      options.lcores ?? '0-1',
      `--main-lcore=${options.mainLcore ?? 0}`,
      '--no-huge',
      '-m',
      String(options.memoryMb ?? 1024),
      '--no-pci',
      `--file-prefix=${this.prefix}`,
      '--log-level=pmd.net.memif:debug',
      ...vdevs,
      '--',
      '--total-num-mbufs=8192',
      `--forward-mode=${options.forwardMode ?? 'io'}`,
      '--nb-cores=1',
      '--stats-period=1',
      ...(options.mlockall === false ? ['--no-mlockall'] : []),
      ...(options.args ?? []),
    ];
    this.child = spawn(testpmdPath() ?? 'dpdk-testpmd', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (b: Buffer) => {
      this.text += b.toString('latin1');
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code) => {
        // Dead, so nothing uses them any more: without this every run leaves them behind.
        fs.rmSync(runtimeDir(this.prefix), { recursive: true, force: true });
        resolve(code);
      }),
    );
    this.closed = new Promise((resolve) => this.child.on('close', () => resolve()));
  }

  get output(): string {
    return this.text;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits until the output matches, failing after `ms` or when testpmd exits first. */
  async waitFor(pattern: RegExp, ms = 15000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.text.match(pattern);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`testpmd exited before ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`testpmd did not print ${pattern} in ${ms} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A server is ready once it has set up its port (it then waits for a client). */
  async ready(): Promise<void> {
    await this.waitFor(/Checking link statuses|Press enter to exit|Port 0: [0-9A-F:]{17}/);
    if (/Failed to setup socket|Address already in use/.test(this.text))
      throw new Error(`testpmd could not listen:\n${this.tail()}`);
  }

  /** Stops with SIGINT and returns the per-port forward statistics it prints. */
  async stop(): Promise<PortStats[]> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      await this.exited;
      clearTimeout(timer);
    }
    return this.stats();
  }

  /** Kills it the hard way (a peer that dies without a word). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  stats(): PortStats[] {
    const out: PortStats[] = [];
    const re =
      /Forward statistics for port (\d+)[^\n]*\n\s*RX-packets: (\d+)\s+RX-dropped: (\d+)[^\n]*\n\s*TX-packets: (\d+)\s+TX-dropped: (\d+)/g;
    for (const m of this.text.matchAll(re))
      out[Number(m[1])] = {
        rxPackets: Number(m[2]),
        rxDropped: Number(m[3]),
        txPackets: Number(m[4]),
        txDropped: Number(m[5]),
      };
    return out;
  }

  tail(lines = 40): string {
    return this.text.replace(ANSI_ESCAPE, '').split('\n').slice(-lines).join('\n');
  }
}
