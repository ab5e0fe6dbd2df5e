import { expect } from 'chai';
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import { memif } from '../../src/index';
import type { MemifInterface, MemifOptions } from '../../src/index';
import { loadNative } from '../../src/native-bridge';
import { sandboxEnv, userSandbox } from '../helpers/as-user';
import { tempDir } from '../helpers/states';
import { fdCount, fdTable } from './hostile-peer';

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

/**
 * The sources as plain CommonJS in a world-readable temporary folder, for child processes that
 * may run as another user (see test/helpers/as-user.ts): `src/...` under the returned folder.
 */
export const compiledSources = (): string => userSandbox();

/** Environment of a child that runs {@link compiledSources}. */
export const childEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => sandboxEnv(extra);

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
