import type { NativeBinding, NativeEventFd, NativeRegion } from '../native-bridge/native';

/**
 * The addon's cross-thread sharing (`share()` / `attach(token)` on regions and eventfds): a
 * token names a mapping or an eventfd process-wide, and any thread attaches its own object over
 * the same one, refcounted natively, so that no thread can touch memory another unmapped
 * (docs/architecture.md "Queues in worker threads").
 */
export interface SharingBinding {
  readonly Region: { attach(token: number): NativeRegion };
  readonly EventFd: { attach(token: number): NativeEventFd };
}

interface Shareable {
  share(): number;
}

/** The binding's sharing part; throws when the loaded addon predates it. */
export const sharing = (native: NativeBinding): SharingBinding => {
  const n = native as unknown as SharingBinding;
  if (typeof n.Region.attach !== 'function' || typeof n.EventFd.attach !== 'function')
    throw new Error(
      'rx-memif: the loaded native addon cannot share memory with worker threads; rebuild it',
    );
  return n;
};

/** The process-wide token of a region or an eventfd. */
export const shareToken = (thing: NativeRegion | NativeEventFd): number =>
  (thing as unknown as Shareable).share();
