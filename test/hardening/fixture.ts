import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { memif } from '../../src/index';
import type { MemifInterface, MemifOptions } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { tempDir } from '../helpers/states';
import { fdCount, fdTable } from './hostile-peer';

const root = path.resolve(__dirname, '..', '..');

/**
 * Per-test set-up of the hardening specs: interfaces made with `make` are closed after each test,
 * then the process must have exactly the fds and native handles it had before the test.
 */
export const useHardening = (): {
  make: (options: MemifOptions) => MemifInterface;
  dir: () => string;
} => {
  const native = loadNative();
  let dir = '';
  let cleanup: () => void = () => undefined;
  let open: MemifInterface[] = [];
  let fds = 0;
  let handles = 0;

  // The first child process makes libuv open /dev/null and its signal pipes for good: do that
  // before any fd is counted.
  before(() => runToEnd(process.execPath, ['-e', '']));

  beforeEach(() => {
    ({ dir, cleanup } = tempDir());
    fds = fdCount();
    handles = native.liveHandles();
  });

  afterEach(async () => {
    await Promise.all(open.map((i) => i.close()));
    open = [];
    cleanup();
    expect(native.liveHandles(), 'native handles left open').to.equal(handles);
    expect(fdCount(), `fds left open:\n${fdTable().join('\n')}`).to.equal(fds);
  });

  return {
    make: (options) => {
      const iface = memif(options);
      open.push(iface);
      return iface;
    },
    dir: () => dir,
  };
};

let compiled: string | undefined;

/**
 * The sources as plain CommonJS in a temporary directory, for child processes: ts-node costs a
 * child over a second of start-up on this machine, plain JS about 0.15 s. Transpiled once per
 * process (no type check, as ts-node's transpile-only does), readable by every user so that a
 * child may run as `nobody`; bare imports resolve through NODE_PATH (see {@link childEnv}).
 */
export const compiledSources = (): string => {
  if (compiled) return compiled;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-hardening-js-'));
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const relPath = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(relPath);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const source = fs.readFileSync(path.join(root, relPath), 'utf8');
        const js = ts.transpileModule(source, {
          fileName: relPath,
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
          },
        }).outputText;
        const file = path.join(out, relPath.replace(/\.ts$/, '.js'));
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
        fs.writeFileSync(file, js, { mode: 0o644 });
      }
    }
  };
  walk('src');
  const chmodTree = (d: string): void => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) chmodTree(path.join(d, e.name));
  };
  chmodTree(out);
  compiled = out;
  process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  return out;
};

/** Environment of a child that runs {@link compiledSources}. */
export const childEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_PATH: path.join(root, 'node_modules'),
  RX_MEMIF_ADDON: path.join(root, 'build', 'Release', 'rx_memif.node'),
  ...extra,
});

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `ms`). */
export const runToEnd = (
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
  ms = 15000,
): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not end in ${ms} ms:\n${stdout}\n${stderr}`));
    }, ms);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
