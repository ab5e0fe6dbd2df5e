import type { WorkKind } from '../queue-io';
import { echoWork } from './echo';
import { genWork } from './gen';
import { respondWork } from './respond';
import { sinkWork } from './sink';

/** The per-queue works a CLI worker thread can run, by command. */
export const works = {
  echo: echoWork,
  gen: genWork,
  sink: sinkWork,
  respond: respondWork,
} as const;

export type WorkName = keyof typeof works;

/** The work named `name`, with its parameters and tallies left opaque (a worker's view). */
export const workNamed = (name: WorkName): WorkKind<unknown, unknown> =>
  works[name] as unknown as WorkKind<unknown, unknown>;
