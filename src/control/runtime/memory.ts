import * as os from 'node:os';
import type { NativeBinding, NativeEventFd, NativeRegion } from '../../native-bridge/native';
import type { ClientMemory, PeerRegion, PeerRing } from '../handshake/types';
import { MEMIF_COOKIE, bufferOffset, ringHeaderLayout } from '../layout';
import type { ClientLayout } from '../layout';
import type { RingDirection } from '../messages';

const LITTLE_ENDIAN = os.endianness() === 'LE';
const F_SEAL_SHRINK = 0x0002;

/** One ring of a live connection: where its header is and its interrupt eventfd. */
export interface RingHandle {
  readonly direction: RingDirection;
  readonly index: number;
  readonly region: number;
  readonly offset: number;
  readonly log2RingSize: number;
  readonly eventFd: NativeEventFd;
}

/**
 * The memory of one connection (regions and ring eventfds), owned here and freed by `close()`.
 * A client creates it before INIT; a server maps it on CONNECT.
 */
export class SharedMemory {
  private released = false;

  constructor(
    readonly regions: readonly NativeRegion[],
    readonly rings: readonly RingHandle[],
    readonly cacheLineSize: number,
    /** The client's layout (copy mode); undefined on a server, which follows descriptors. */
    readonly layout?: ClientLayout,
  ) {}

  get closed(): boolean {
    return this.released;
  }

  close(): void {
    if (this.released) return;
    this.released = true;
    for (const ring of this.rings) ring.eventFd.close();
    for (const region of this.regions) region.close();
  }
}

const closeAll = (things: readonly { close(): void }[]): void => {
  for (const thing of things) thing.close();
};

/**
 * Client side (docs/protocol.md#client-layout): one memfd region with all rings then all buffers,
 * every ring header initialised (cookie, head = tail = 0, flags 0) and every descriptor pointing
 * at its fixed buffer with the full buffer size; one eventfd per ring.
 */
export const createClientMemory = (
  native: NativeBinding,
  layout: ClientLayout,
  name: string,
): { memory: SharedMemory; announce: ClientMemory } => {
  const region = native.Region.create(name, layout.regionSize);
  const fds: NativeEventFd[] = [];
  try {
    const view = new DataView(region.buffer);
    const header = ringHeaderLayout(layout.cacheLineSize);
    const slots = 1 << layout.log2RingSize;
    for (const ring of layout.rings) {
      view.setUint32(ring.offset + header.cookie, MEMIF_COOKIE, LITTLE_ENDIAN);
      view.setUint16(ring.offset + header.flags, 0, LITTLE_ENDIAN);
      view.setUint16(ring.offset + header.head, 0, LITTLE_ENDIAN);
      view.setUint16(ring.offset + header.tail, 0, LITTLE_ENDIAN);
      for (let slot = 0; slot < slots; slot++) {
        const d = ring.offset + header.descriptors + slot * 16;
        view.setUint16(d, 0, LITTLE_ENDIAN); // flags
        view.setUint16(d + 2, 0, LITTLE_ENDIAN); // region
        view.setUint32(d + 4, layout.bufferSize, LITTLE_ENDIAN); // length = capacity
        view.setUint32(d + 8, bufferOffset(layout, ring, slot), LITTLE_ENDIAN);
        view.setUint32(d + 12, 0, LITTLE_ENDIAN); // metadata
      }
      fds.push(native.EventFd.create());
    }
  } catch (e) {
    closeAll(fds);
    region.close();
    throw e;
  }
  const rings = layout.rings.map((r, i) => ({
    direction: r.direction,
    index: r.index,
    region: r.region,
    offset: r.offset,
    log2RingSize: layout.log2RingSize,
    eventFd: fds[i],
  }));
  return {
    memory: new SharedMemory([region], rings, layout.cacheLineSize, layout),
    announce: {
      layout,
      regions: [{ index: 0, size: layout.regionSize, fd: region.fd }],
      ringFds: fds.map((f) => f.fd),
    },
  };
};

/**
 * Server side, on CONNECT (docs/protocol.md#mapping-on-connect): maps every region (checking its
 * real size and its shrink seal, so that a client cannot truncate memory under us), adopts every
 * eventfd, checks every ring's cookie and resets head and tail. Takes ownership of every fd, also
 * when it fails; the error says what was wrong.
 */
export const mapPeerMemory = (
  native: NativeBinding,
  peerRegions: readonly PeerRegion[],
  peerRings: readonly PeerRing[],
): SharedMemory => {
  const regions: NativeRegion[] = [];
  const eventFds: NativeEventFd[] = [];
  const pending = new Set([...peerRegions.map((r) => r.fd), ...peerRings.map((r) => r.fd)]);
  try {
    for (const r of peerRegions) {
      pending.delete(r.fd);
      const region = native.Region.map(r.fd, r.size);
      regions.push(region);
      if (region.seals === -1 || (region.seals & F_SEAL_SHRINK) === 0)
        throw new Error(`region ${r.index} is not sealed against shrinking (F_SEAL_SHRINK)`);
    }
    for (const r of peerRings) {
      pending.delete(r.fd);
      eventFds.push(native.EventFd.adopt(r.fd));
    }
    const header = ringHeaderLayout(native.cacheLineSize);
    for (const r of peerRings) {
      const view = new DataView(regions[r.region].buffer, r.offset);
      const cookie = view.getUint32(header.cookie, LITTLE_ENDIAN);
      if (cookie !== MEMIF_COOKIE)
        throw new Error(
          `wrong cookie 0x${cookie.toString(16)} on ${r.direction.toUpperCase()} ring ${r.index}`,
        );
      // libmemif and DPDK servers reset both indices here; a client must expect it.
      view.setUint16(header.head, 0, LITTLE_ENDIAN);
      view.setUint16(header.tail, 0, LITTLE_ENDIAN);
    }
  } catch (e) {
    for (const fd of pending) native.closeFd(fd);
    closeAll(eventFds);
    closeAll(regions);
    throw e;
  }
  const rings = peerRings.map((r, i) => ({
    direction: r.direction,
    index: r.index,
    region: r.region,
    offset: r.offset,
    log2RingSize: r.log2RingSize,
    eventFd: eventFds[i],
  }));
  return new SharedMemory(regions, rings, native.cacheLineSize);
};
