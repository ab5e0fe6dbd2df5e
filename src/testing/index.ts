/**
 * `rx-memif/testing`: test kits for code built on rx-memif.
 *
 * - {@link virtualInterface}: a `MemifInterface` with no native code and no peer, for marble
 *   tests (`TestScheduler.run`) of protocol logic: scripted arrivals and states, recorded
 *   transmissions.
 * - {@link connectedPair}: a real server/client pair in this process, for integration tests.
 * - {@link frame}, {@link ethernet}, {@link hex}: packets for both.
 *
 * Importing this module does not load the native addon; only `connectedPair()` does.
 *
 * @example
 * import { virtualInterface, connectedPair, frame, ethernet } from 'rx-memif/testing';
 */
export { virtualInterface } from './virtual-interface';
export type {
  VirtualInterface,
  VirtualInterfaceOptions,
  StateInput,
  TxRecord,
} from './virtual-interface';
export { connectedPair } from './pair';
export type { ConnectedPair, ConnectedPairOptions, PairSideOptions } from './pair';
export { frame, ethernet, hex } from './frames';
export type { Bytes, EthernetFields } from './frames';
