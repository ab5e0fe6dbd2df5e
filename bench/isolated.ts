import * as path from 'node:path';
import { linesStartingWith, runNode } from './node-child';
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
export const isolated = async (spec: WorkloadSpec): Promise<OursRun> => {
  const { stdout, exit } = await runNode([
    ...process.execArgv,
    path.join(__dirname, 'workload.js'),
    JSON.stringify(spec),
  ]);
  try {
    return JSON.parse(linesStartingWith(stdout, '{"rate"').at(-1) ?? '') as OursRun;
  } catch {
    console.error(`  ${spec.kind} workload: no result (exit ${exit})`);
    return { rate: 0, ok: false };
  }
};
