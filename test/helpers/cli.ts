import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { sandboxCli, sandboxSpawnOptions } from './as-user';
import type { User } from './as-user';

const root = path.resolve(__dirname, '..', '..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as JSON lines. */
  json(): Record<string, unknown>[];
}

export interface CliRun extends PromiseLike<CliResult> {
  /** Resolves once a stdout line matches. */
  waitForLine(pattern: RegExp, ms?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  readonly pid: number | undefined;
}

/**
 * Runs `rx-memif ...` from the sources transpiled once per test process (the sandbox of
 * test/helpers/as-user.ts, what `bin/rx-memif.js` runs once built): a child under ts-node would
 * spend over a second compiling before it starts. With `as`, as that user from the sandbox;
 * otherwise from the checkout, so that relative paths in `args` resolve as a user's would.
 */
export const runCli = (args: string[], env: NodeJS.ProcessEnv = {}, as?: User): CliRun => {
  const child = spawn(process.execPath, [sandboxCli(), ...args], {
    ...sandboxSpawnOptions(as, env),
    ...(as ? {} : { cwd: root }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const { stdout: out, stderr: err } = child;
  if (!out || !err) throw new Error('runCli: no pipes');
  out.on('data', (b: Buffer) => {
    stdout += b.toString();
    for (const w of [...waiters]) {
      const line = stdout.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  err.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json: () =>
          stdout
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    ),
  );
  return {
    then: (onFulfilled, onRejected) => done.then(onFulfilled, onRejected),
    pid: child.pid,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    waitForLine: (pattern, ms = 15000) =>
      new Promise<string>((resolve, reject) => {
        const line = stdout.split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return resolve(line);
        const timer = setTimeout(
          () => reject(new Error(`no line ${pattern} in ${ms} ms:\n${stdout}\n${stderr}`)),
          ms,
        );
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          reject(new Error(`rx-memif exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        });
      }),
  };
};
