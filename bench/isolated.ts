import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { OneWayApi, OursRun, ReflectApi } from './in-process';
import type { Role } from './peers';

/** What bench/workload.ts runs: the arguments of `oneWayOurs` or `roundTripOurs`. */
export type WorkloadSpec =
  | {
      readonly kind: 'one-way';
      readonly size: number;
      readonly api: OneWayApi;
      readonly secs: number;
    }
  | {
      readonly kind: 'round-trip';
      readonly role: Role;
      readonly size: number;
      readonly api: ReflectApi;
      readonly secs: number;
    };

/**
 * Runs one workload in a fresh Node process (bench/workload.ts) with this process's Node flags
 * (BENCH_NODE_ARGS reach it) and CPU affinity; resolves with its result, or with a failed run
 * (`ok: false`, retried by the caller) when the child dies or prints none.
 */
export const isolated = (spec: WorkloadSpec): Promise<OursRun> =>
  new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, path.join(__dirname, 'workload.js'), JSON.stringify(spec)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.on('close', (code, signal) => {
      // The result line; other lines (--trace-gc, say) may come after it.
      const line =
        out
          .split('\n')
          .filter((l) => l.startsWith('{"rate"'))
          .at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as OursRun);
      } catch {
        console.error(`  ${spec.kind} workload: no result (exit ${code ?? signal})`);
        resolve({ rate: 0, ok: false });
      }
    });
  });
