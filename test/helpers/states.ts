import { firstValueFrom, filter, timeout } from 'rxjs';
import type { ConnectionState, MemifInterface } from '../../src/index';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deadline } from './deadline';

type Status = ConnectionState['status'];
type Of<S extends Status> = Extract<ConnectionState, { status: S }>;

/** The first state with this status (or matching `pred`), or a timeout error naming it. */
export const waitForState = <S extends Status>(
  iface: MemifInterface,
  status: S,
  ms = 15000,
  pred: (s: Of<S>) => boolean = () => true,
): Promise<Of<S>> =>
  firstValueFrom(
    iface.state$.pipe(
      filter((s): s is Of<S> => s.status === status && pred(s as Of<S>)),
      timeout({
        first: deadline(ms),
        with: () => {
          throw new Error(`no ${status} state within ${deadline(ms)} ms`);
        },
      }),
    ),
  );

/** Records every state of an interface. */
export const recordStates = (iface: MemifInterface): ConnectionState[] => {
  const seen: ConnectionState[] = [];
  iface.state$.subscribe((s) => seen.push(s));
  return seen;
};

/** A fresh temporary directory, removed by the returned cleanup. */
export const tempDir = (): { dir: string; cleanup: () => void } => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rx-memif-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
};

let abstractCounter = 0;
/** A unique abstract socket name, `@...`. */
export const abstractName = (): string => `@rx-memif-test-${process.pid}-${++abstractCounter}`;
