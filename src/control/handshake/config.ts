import type { InterfaceId, InterfaceMode, MemifName, Secret } from '../brands';
import type { RetryPolicy } from './types';

/** What a handshake machine needs to know about its interface (validated options). */
export interface HandshakeConfig {
  readonly id: InterfaceId;
  readonly mode: InterfaceMode;
  /** Empty: no secret (a server then accepts any client secret). */
  readonly secret: Secret;
  readonly appName: MemifName;
  readonly interfaceName: MemifName;
  /** Client → server rings (a client's tx queues, a server's rx queues). */
  readonly s2mRings: number;
  /** Server → client rings (a client's rx queues, a server's tx queues). */
  readonly m2sRings: number;
  readonly log2RingSize: number;
  readonly bufferSize: number;
  readonly cacheLineSize: number;
  readonly retry: RetryPolicy;
  /** A handshake that has not completed this long after it began is abandoned. */
  readonly handshakeTimeoutMs: number;
}

/** Server limits, sent in HELLO and enforced on ADD_REGION / ADD_RING. */
export const SERVER_LIMITS = {
  maxRegion: 255,
  maxRing: 255,
  maxLog2RingSize: 14,
} as const;
