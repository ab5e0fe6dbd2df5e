import { firstValueFrom, filter, from, map, merge } from 'rxjs';
import type { ConnectedState, MemifInterface } from '../index';

/** The first `connected` state, or undefined when `stopped` settles first. */
export const waitConnected = (
  iface: MemifInterface,
  stopped: Promise<unknown>,
): Promise<ConnectedState | undefined> =>
  firstValueFrom(
    merge(
      iface.state$.pipe(filter((s): s is ConnectedState => s.status === 'connected')),
      from(stopped).pipe(map(() => undefined)),
    ),
    { defaultValue: undefined },
  );
