/**
 * One in-process workload in a Node process of its own (spawned by bench/isolated.ts): the
 * measured process starts as a user's application would, instead of inheriting the heap that
 * the workloads before it shaped. V8 sizes its young generation and its old-generation limits
 * from the process's history, and one such state (an old generation just over V8's 8 MB
 * activation threshold with a small limit) turns every scavenge into a full GC; rows measured
 * after the large-frame round trips ran in that state (bench/RESULTS.md, "Each workload in its
 * own process").
 *
 * argv[2] is a JSON `WorkloadSpec`; the last stdout line is the JSON `OursRun`.
 */
import { GcMeter } from './gc-meter';
import { oneWayOurs, roundTripOurs } from './in-process';
import type { OursRun } from './in-process';
import { removeSockets } from './peers';
import type { WorkloadSpec } from './isolated';

/**
 * BENCH_LIVE_MB: about this many MB of live objects held for the whole run, as an application's
 * own data would be; 1 puts the old generation in the window that docs/tuning.md describes
 * ("Full GCs after every scavenge"), which is how that finding is reproduced.
 */
const holdLiveData = (mb: number): unknown[] => {
  const held: unknown[] = [];
  // An array of 100 small objects is about 2.4 KB of heap.
  for (let i = 0; i < mb * 430; i++) held.push(Array.from({ length: 100 }, (_, k) => ({ k })));
  return held;
};

const run = (spec: WorkloadSpec, meter: GcMeter): Promise<OursRun> =>
  spec.kind === 'one-way'
    ? oneWayOurs(spec.size, spec.api, spec.secs, meter)
    : roundTripOurs(spec.role, spec.size, spec.api, spec.secs, meter);

const main = async (): Promise<void> => {
  const spec = JSON.parse(process.argv[2] ?? '') as WorkloadSpec;
  const meter = new GcMeter();
  const held = holdLiveData(Number(process.env.BENCH_LIVE_MB ?? 0));
  try {
    const result = await run(spec, meter);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    meter.close();
    removeSockets();
    held.length = 0;
  }
};

main().catch((e: unknown) => {
  console.error(`  workload failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
