/**
 * rx-memif: memif interfaces (FD.io VPP, libmemif, DPDK net_memif) for Node.js, with every
 * queue an RxJS stream.
 */
export { memif } from './streams/memif';
export type { MemifInterface, MemifQueues, InterfaceStats } from './streams/memif';
export type {
  MemifWorker,
  MemifWorkerOptions,
  MemifWorkerState,
  MemifWorkerError,
} from './workers/memif-worker';
export { Burst } from './streams/burst';
// Packet operators: parsing, filters, rewrites and checksums, icmpResponder, bursts, rates, pcap.
export * from './streams/operators';
export { ZeroCopyTx, TxSlots } from './streams/zero-copy-tx';
export type { RxMode } from './streams/data-path';
export type { QueueStats, DropReason } from './streams/counters';
export { resolveOptions, OptionsError, DEFAULT_SOCKET } from './control/options';
export type { MemifOptions, ResolvedOptions } from './control/options';
export type { RetryPolicy } from './control/handshake/types';
export type {
  ConnectionState,
  ListeningState,
  ConnectingState,
  HandshakingState,
  HandshakeStep,
  ConnectedState,
  DisconnectedState,
  ClosedState,
  DisconnectSide,
  RegionInfo,
  Role,
} from './control/state';
export type { InterfaceMode } from './control/brands';
export { MemifError, isMemifError } from './native-bridge/errors';
