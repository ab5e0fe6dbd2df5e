import { spawn } from 'node:child_process';

/** What a child Node process printed, and how it ended. */
export interface NodeChildResult {
  readonly stdout: string;
  /** The exit code, or the signal that ended it. */
  readonly exit: number | string;
}

/**
 * Runs `node ...args` (this Node binary, this process's CPU affinity), stdout captured and
 * stderr passed through; resolves once it has exited. The bench runs each measured workload
 * in a process of its own this way (bench/isolated.ts, bench/operators.ts).
 */
export const runNode = (
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<NodeChildResult> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (stdout += s));
    child.on('close', (code, signal) => resolve({ stdout, exit: code ?? signal ?? 'unknown' }));
  });

/** The stdout lines that start with `prefix` (the JSON results; other lines, --trace-gc say, skipped). */
export const linesStartingWith = (stdout: string, prefix: string): string[] =>
  stdout.split('\n').filter((l) => l.startsWith(prefix));
