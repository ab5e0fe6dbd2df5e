import type {
  DisconnectReason,
  InterfaceId,
  InterfaceMode,
  Log2RingSize,
  MemifName,
  RegionIndex,
  RingIndex,
  Secret,
  U16,
  U32,
  U64,
  U8,
  Version,
} from './brands';

/**
 * The memif control messages as typed values (docs/protocol.md#message-layouts). Each is one
 * 128-byte frame on the wire; `codec/` converts between the two.
 */

/** Message type numbers (u16 at offset 0). */
export const MessageType = {
  none: 0,
  ack: 1,
  hello: 2,
  init: 3,
  'add-region': 4,
  'add-ring': 5,
  connect: 6,
  connected: 7,
  disconnect: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** Type 0: never sent by a correct peer; decodable so that it can be named in errors. */
export interface NoneMessage {
  readonly type: 'none';
}

/** Server → client: acknowledges INIT, ADD_REGION and ADD_RING. */
export interface AckMessage {
  readonly type: 'ack';
}

/** Server → client, first message on a new connection: the server's limits. */
export interface HelloMessage {
  readonly type: 'hello';
  /** The server's app name. */
  readonly name: MemifName;
  readonly minVersion: Version;
  readonly maxVersion: Version;
  /** Highest region index the server accepts. */
  readonly maxRegion: U16;
  /** Highest M2S ring index (DPDK: `max_s2c_ring`); clients use `+ 1` as the count. */
  readonly maxM2SRing: U16;
  /** Highest S2M ring index (DPDK: `max_c2s_ring`). */
  readonly maxS2MRing: U16;
  /** Raw u8 as sent; clients clamp their log2 ring size to it. */
  readonly maxLog2RingSize: U8;
}

/** Client → server: binds the connection to interface `id`. */
export interface InitMessage {
  readonly type: 'init';
  readonly version: Version;
  readonly id: InterfaceId;
  readonly mode: InterfaceMode;
  /** Empty string when the client has no secret. */
  readonly secret: Secret;
  /** The client's app name. */
  readonly name: MemifName;
}

/** Client → server, with the region's fd. */
export interface AddRegionMessage {
  readonly type: 'add-region';
  readonly index: RegionIndex;
  /** Region size in bytes (u64 on the wire). */
  readonly size: U64;
}

/** Ring direction: S2M carries client → server packets, M2S server → client. */
export type RingDirection = 's2m' | 'm2s';

/** Client → server, with the ring's interrupt eventfd. */
export interface AddRingMessage {
  readonly type: 'add-ring';
  /** From flags bit 0 (`MEMIF_MSG_ADD_RING_FLAG_S2M`). */
  readonly direction: RingDirection;
  readonly index: RingIndex;
  /** Region holding the ring header. */
  readonly region: RegionIndex;
  /** Byte offset of the ring header in that region. */
  readonly offset: U32;
  readonly log2RingSize: Log2RingSize;
  /** Must be 0 for every known server; kept so the server can reject it with a reason. */
  readonly privateHdrSize: U16;
}

/** Client → server: all regions and rings announced; carries the client's interface name. */
export interface ConnectMessage {
  readonly type: 'connect';
  readonly interfaceName: MemifName;
}

/** Server → client: link up; carries the server's interface name. */
export interface ConnectedMessage {
  readonly type: 'connected';
  readonly interfaceName: MemifName;
}

/** Either direction: the sender is closing; `code` is informational (VPP sends errno values). */
export interface DisconnectMessage {
  readonly type: 'disconnect';
  readonly code: U32;
  readonly reason: DisconnectReason;
}

export type ControlMessage =
  | NoneMessage
  | AckMessage
  | HelloMessage
  | InitMessage
  | AddRegionMessage
  | AddRingMessage
  | ConnectMessage
  | ConnectedMessage
  | DisconnectMessage;

/** Every message is exactly this long on the wire. */
export const FRAME_SIZE = 128;
