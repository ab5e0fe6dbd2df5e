/**
 * The exact shape of the native addon (`build/Release/rx_memif.node`, or the prebuilt
 * `prebuilds/<platform>-<arch>/node.napi.glibc.node` when nothing was compiled).
 *
 * This file is the contract between `native/` (C++) and TypeScript: every class and function the
 * addon exports is declared here, nothing else reaches the binding. The native side owns fds,
 * mappings and uv handles and knows nothing about the memif handshake; the TS layers above add the
 * protocol and the idioms (Observables, typed states).
 *
 * Conventions shared by every native object:
 * - `close()` is idempotent and releases everything the object owns (fd, mapping, uv_poll handle).
 * - Anything still open when the Node environment is torn down (process exit, worker exit) is
 *   closed by the addon's cleanup hook.
 * - Failures throw the error class registered with {@link NativeBinding.setErrorFactory}, carrying
 *   `code` (an errno name such as `EADDRINUSE`, or `EPROTO`/`EINVAL` for validation failures),
 *   `errno` (positive errno, 0 when not from a syscall) and `syscall`.
 * - Callbacks run on the Node event loop (through `MakeCallback`, so microtasks run after them).
 *   An exception thrown by a callback becomes an uncaught exception; callers must not throw.
 */

/** Builds the error object the addon throws; registered once when the addon is loaded. */
export type NativeErrorFactory = (
  message: string,
  code: string,
  errno: number,
  syscall: string,
) => Error;

/** A listening AF_UNIX SOCK_SEQPACKET socket (SO_PASSCRED set, accepted channels inherit it). */
export interface NativeControlListener {
  /** The address as given to `listen` (`@name` for an abstract name). */
  readonly address: string;
  readonly closed: boolean;
  /**
   * Stops accepting, closes the socket and, for a filesystem path, unlinks the socket file if it
   * is still the one this listener bound (same device and inode). Idempotent.
   */
  close(): void;
}

export interface NativeControlListenerStatic {
  /**
   * Binds and listens on `address`: a filesystem path, or `@name` for the abstract name `\0name`
   * (address length exactly `2 + 1 + strlen(name)`, no trailing NUL).
   *
   * Errors: `ENAMETOOLONG` (over 107 bytes), `ENOENT` (missing directory), `EADDRINUSE` (a live
   * listener is on the path, or the path exists and is not a socket), `EACCES`, ... A stale socket
   * file (nothing accepts on it) is unlinked and bound again; a live one is never stolen.
   *
   * `onConnection` receives each accepted channel (non-blocking, close-on-exec), not yet started.
   * `onError` reports a failure of accept() other than EAGAIN/ECONNABORTED; the listener stays
   * open unless the caller closes it.
   */
  listen(
    address: string,
    onConnection: (channel: NativeControlChannel) => void,
    onError: (error: Error) => void,
    access?: SocketFileAccess,
  ): NativeControlListener;
}

/**
 * Who may use a listener's socket file, set before the file appears on its path: the socket is
 * bound in a fresh 0700 directory beside it, given this mode and group there, then hard-linked
 * onto the path (which never replaces an existing file). A path whose temporary name would exceed
 * 107 bytes fails with `ENAMETOOLONG`; an abstract name (no file) with `EINVAL`; an unknown group
 * name with `ENOENT`; a group this process may not give away with `EPERM`.
 */
export interface SocketFileAccess {
  /** Permission bits of the socket file, 0..0o7777. */
  readonly mode?: number;
  /** Group of the socket file: a gid or a group name (looked up with getgrnam_r). */
  readonly group?: number | string;
}

/** The peer of a connected control socket, as the kernel recorded it (SO_PEERCRED). */
export interface PeerCredentials {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** Called for each datagram received on a control channel. */
export type FrameHandler = (
  /** The datagram's bytes (a new buffer each call; normally 128 bytes). */
  frame: Uint8Array,
  /**
   * File descriptors received with it through SCM_RIGHTS (usually none or one). Ownership passes
   * to the callee, which must close or adopt every one of them.
   */
  fds: readonly number[],
  /** True when the datagram was longer than the receive buffer (MSG_TRUNC) or fds were cut. */
  truncated: boolean,
) => void;

/**
 * Called once when the channel ends by itself: `null` for an orderly EOF/HUP from the peer, an
 * error for a failed recvmsg(). Not called after a local `close()`.
 */
export type ChannelCloseHandler = (error: Error | null) => void;

/** One connected AF_UNIX SOCK_SEQPACKET socket carrying 128-byte control messages. */
export interface NativeControlChannel {
  readonly closed: boolean;
  /**
   * Who is on the other end (SO_PEERCRED), as of the connection: the connecting process on an
   * accepted socket, the process that called listen() on a connected one. Undefined once closed.
   */
  readonly peer: PeerCredentials | undefined;
  /**
   * Starts watching the socket with uv_poll; frames and the end of the channel are reported to
   * the handlers. Call once.
   */
  start(onFrame: FrameHandler, onClose: ChannelCloseHandler): void;
  /**
   * Sends one datagram (the frame as given; the codec makes it 128 bytes) with at most one fd
   * attached through SCM_RIGHTS. The fd stays owned by the caller. Throws on failure
   * (`EPIPE`, `ECONNRESET`, `EAGAIN` when the socket buffer is full, ...).
   */
  send(frame: Uint8Array, fd?: number): void;
  /** Stops polling and closes the socket; the peer sees EOF. Idempotent. */
  close(): void;
}

export interface NativeControlChannelStatic {
  /**
   * Connects to a listener at `address` (path or `@name`). Errors: `ENOENT`, `ECONNREFUSED`,
   * `ENAMETOOLONG`, `EAGAIN` (listener backlog full), ...
   */
  connect(address: string): NativeControlChannel;
}

/**
 * A shared-memory region mapped read-write and shared (MAP_SHARED): the owner (made by `create`
 * or `map`), or an attachment (made by `attach`, in any thread of the process, over the owner's
 * mapping). The mapping is refcounted: it is unmapped only when the owner and every attachment
 * are closed (or finalized, or torn down with their environment).
 */
export interface NativeRegion {
  /** The memfd backing the region (owned by the region; closed with it); -1 on an attachment. */
  readonly fd: number;
  /** The mapped length in bytes. */
  readonly size: number;
  /**
   * The mapping as an ArrayBuffer (this object's own: an attachment has another one over the same
   * memory). After `close()` it is detached: its byteLength is 0 and every view on it has length
   * 0, so no JS view can reach memory that may be unmapped. Closing an attachment detaches only
   * its own buffer.
   */
  readonly buffer: ArrayBuffer;
  /** The file's seals (`F_GET_SEALS`), or -1 when the fd does not support sealing (or is -1). */
  readonly seals: number;
  readonly closed: boolean;
  /**
   * A process-wide token (a positive integer, the same one on every call for a given region)
   * under which any environment of this process (main thread or worker) can
   * {@link NativeRegionStatic.attach} to the mapping; post it to the worker. The token stops
   * being attachable once the owning region is closed. On an attachment: the token it was
   * attached by. `EBADF` once closed.
   */
  share(): number;
  /**
   * Detaches `buffer` and lets go of the mapping (unmapped if this was the last holder); the
   * owner also closes the fd and withdraws its token. Idempotent.
   */
  close(): void;
}

export interface NativeRegionStatic {
  /**
   * Creates a region: `memfd_create(name, MFD_ALLOW_SEALING | MFD_CLOEXEC)`, `ftruncate(size)`,
   * seals it against shrinking (`F_SEAL_SHRINK`), then maps it.
   */
  create(name: string, size: number): NativeRegion;
  /**
   * Maps a region received from a peer. Takes ownership of `fd` in every case (closes it on
   * failure). Fails with `EPROTO` when `fstat` shows a file smaller than `size`, `EINVAL` for a
   * size of 0 or one over the platform limit.
   */
  map(fd: number, size: number): NativeRegion;
  /**
   * A new Region object in the calling environment over the SAME mapping as the region that
   * returned `token` from `share()` (no second mmap): its own ArrayBuffer (external, over the same
   * memory), `fd` -1, `seals` -1, `size` the mapping's size. It keeps the mapping alive after the
   * owner closes. `ENOENT` for an unknown token or one whose owner has closed; `EINVAL` for a
   * token that is not an integer from 1 to 2^53 - 1.
   */
  attach(token: number): NativeRegion;
}

/**
 * A non-blocking eventfd used as a memif ring interrupt: the owner (`create`, `adopt`) or an
 * attachment (`attach`, in any thread of the process). The fd is refcounted: it is closed when the
 * owner and every attachment are closed, so its number is never reused while one may use it.
 */
export interface NativeEventFd {
  /** The fd (the same number on the owner and its attachments), -1 once closed. */
  readonly fd: number;
  readonly closed: boolean;
  /**
   * A process-wide token (a positive integer, the same one on every call) under which any
   * environment of this process can {@link NativeEventFdStatic.attach} to this eventfd. It stops
   * being attachable once the owner is closed. On an attachment: the token it was attached by.
   * `EBADF` once closed.
   */
  share(): number;
  /** Adds 1 to the counter (`write(fd, &1, 8)`); EAGAIN (counter saturated) is ignored. */
  signal(): void;
  /** Reads and clears the counter; returns 0 when nothing was pending. */
  drain(): number;
  /**
   * Watches the fd with uv_poll (readable) on the calling environment's loop. On each wake the
   * counter is drained natively and `onSignal` receives the drained value (> 0). Calling it again
   * replaces the handler. `EBUSY` when another EventFd over the same eventfd is watched in this
   * environment (libuv allows one poll handle per fd and loop); watching from different threads
   * is allowed (whichever drains first receives the count).
   */
  watch(onSignal: (count: number) => void): void;
  /** Stops watching (the handle is closed); the fd stays open. Idempotent. */
  unwatch(): void;
  /**
   * Stops watching and lets go of the fd (closed if this was the last holder); the owner also
   * withdraws its token. Idempotent.
   */
  close(): void;
}

export interface NativeEventFdStatic {
  /** `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`. */
  create(): NativeEventFd;
  /**
   * Takes ownership of an fd received from a peer. Fails with `EPROTO` (closing the fd) when it
   * is not an eventfd; sets O_NONBLOCK on it.
   */
  adopt(fd: number): NativeEventFd;
  /**
   * A new EventFd object in the calling environment over the eventfd that returned `token` from
   * `share()`: `signal`, `drain`, `watch` (on this environment's loop) and `unwatch` work on it;
   * it keeps the fd open after the owner closes. `ENOENT` for an unknown token or one whose owner
   * has closed; `EINVAL` for a token that is not an integer from 1 to 2^53 - 1.
   */
  attach(token: number): NativeEventFd;
}

/** Everything the addon exports. */
export interface NativeBinding {
  /** Registers how native errors are built (called once by the loader). */
  setErrorFactory(factory: NativeErrorFactory): void;
  /** The cache-line size the ring layout was compiled for (64 on x86_64, 128 on aarch64). */
  readonly cacheLineSize: number;
  readonly ControlListener: NativeControlListenerStatic;
  readonly ControlChannel: NativeControlChannelStatic;
  readonly Region: NativeRegionStatic;
  readonly EventFd: NativeEventFdStatic;
  readonly Queue: NativeQueueStatic;
  /** Closes a raw fd received from a peer and not adopted. Ignores EBADF. */
  closeFd(fd: number): void;
  /**
   * Number of native objects still open in the calling environment (sockets, regions, eventfds,
   * queues; attachments included, each counted in the environment that made it); for leak tests.
   */
  liveHandles(): number;
  /**
   * Receive memory that is reused: an ArrayBuffer of `SLAB_TOTAL` bytes (rx-port.ts) from a
   * per-environment pool, returned to the pool by its finalizer once no view of it is reachable.
   * Not zeroed (it holds earlier packets of this process). Each call also lets V8 scavenge young
   * ArrayBuffers, so slabs dropped young come back without a full GC. Undefined where external
   * buffers are not allowed, or while 32 slabs are out; the caller then allocates in JS.
   */
  takeSlab(): ArrayBuffer | undefined;
}

/**
 * Indices into a queue's counters (a Float64Array the native side increments in place, so
 * reading stats costs no native call). Every bad descriptor is counted under its reason and
 * skipped without being read.
 */
export const QueueCounter = {
  packets: 0,
  bytes: 1,
  bursts: 2,
  /** tx: packets that found no room in the ring during a call (the caller keeps them). */
  ringFull: 3,
  /** rx: descriptor names a region that does not exist. */
  badRegion: 4,
  /** rx/tx: offset + length (64-bit) lies beyond the region. */
  badBounds: 5,
  /** rx: zero-length descriptor. */
  badLength: 6,
  /** rx: flags other than NEXT set. */
  badFlags: 7,
  /** rx: a chain that never ends (NEXT on every available slot of a full ring). */
  badChain: 8,
  /**
   * rx/tx: the peer's index is out of range: moved by more than the ring size, or (client rx) a
   * tail beyond the head we offered. Clamped; counted at most once per native call while it lasts.
   */
  badIndex: 9,
  /** rx: packet larger than the receive slab or the chain limit; dropped. */
  tooBig: 10,
  /** rx: descriptors consumed in total (segments). */
  descriptors: 11,
  /** tx: eventfd signals sent. */
  interrupts: 12,
  /** tx (server): a client-offered buffer whose capacity was 0 or out of its region. */
  badOffer: 13,
} as const;
export const QUEUE_COUNTERS = 14;

/** What a queue needs to know; the ring header is at `regions[ringRegion]` + `ringOffset`. */
export interface NativeQueueConfig {
  /** Which side of the protocol this process is. */
  readonly role: 'client' | 'server';
  /** rx: this side receives on the ring; tx: it transmits. */
  readonly direction: 'rx' | 'tx';
  /**
   * All regions of the connection, by region index: open regions of the calling environment,
   * owned or attached (a worker's queue uses its attachments of the main thread's regions).
   */
  readonly regions: readonly NativeRegion[];
  readonly ringRegion: number;
  readonly ringOffset: number;
  readonly log2RingSize: number;
  /**
   * Client only: its buffer size and where slot 0's buffer starts (region `bufferRegion`).
   * Slot `j`'s buffer is at `bufferBase + j * bufferSize`; a client rewrites region/offset of
   * every descriptor it hands out, so a peer that scribbles on them cannot redirect it.
   */
  readonly bufferSize: number;
  readonly bufferRegion: number;
  readonly bufferBase: number;
  /**
   * The ring's interrupt eventfd (tx signals it when the receiver has not set MASK_INT); owned or
   * attached, of the calling environment.
   */
  readonly eventFd: NativeEventFd;
  /**
   * rx: packets longer than this (all segments together) are dropped as `tooBig`. The caller
   * always passes at least this much free slab, so every call makes progress.
   */
  readonly maxPacketSize: number;
  /**
   * QUEUE_COUNTERS doubles, incremented in place. May be a view over a SharedArrayBuffer (with a
   * byteOffset), so that another thread reads a worker's counters without a message.
   */
  readonly counters: Float64Array;
  /**
   * Client rx only: the ring was served until now by another queue object (a worker thread that
   * exited, or the thread a worker took it from): reading starts a ring's worth behind head, after
   * the last slot that one returned, instead of at tail, so packets waiting in the ring are read,
   * not skipped; packets it had read without returning are read again.
   */
  readonly resume?: boolean;
}

/**
 * One ring of a live connection, driven in bursts: one native call moves many packets, with
 * acquire/release ordering on head/tail and every descriptor bounds-checked in 64-bit
 * arithmetic. A queue checks on every call that its regions are still mapped (a call after
 * close or after a region was closed returns 0 and does nothing).
 */
export interface NativeQueue {
  /**
   * rx, copy mode: copies up to `maxPackets` whole packets (chains reassembled) into `slab`
   * starting at `slabOffset`, writing each packet's slab offset and length into `offsets[i]`,
   * `lengths[i]`; then returns the slots to the peer (server: stores tail; client: refills
   * head). Stops early at a packet that does not fit in the rest of the slab, and at a trailing
   * incomplete chain (left for the next call). Returns the packet count; `pending()` tells
   * whether more are waiting.
   */
  receive(
    slab: Uint8Array,
    slabOffset: number,
    offsets: Uint32Array,
    lengths: Uint32Array,
    maxPackets: number,
  ): number;
  /**
   * rx, zero-copy: reports up to `maxPackets` packets in place without returning their slots:
   * `regions[0]` is the region they all lie in, `offsets[i]`/`lengths[i]` where in it. A call
   * reports packets of one source only: it stops before a packet in another region, and a
   * chained packet is copied into `slab` (from `slabOffset`) and reported with region -1
   * (with `offsets[i]` in the slab), alone or with other chained ones. Call `release()` when done.
   */
  peek(
    slab: Uint8Array,
    slabOffset: number,
    regions: Int32Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    maxPackets: number,
  ): number;
  /** rx, zero-copy: returns the slots of everything `peek` reported. */
  release(): void;
  /**
   * tx: writes packets `i < count` (`data[offsets[i] .. offsets[i] + lengths[i])`) into the ring,
   * chaining over several buffers when a packet is larger than one; a chain is published whole
   * or not at all. Stops at the first packet that does not fit. Publishes once, then signals
   * the eventfd once if the peer has not masked interrupts. Returns the number sent (a prefix).
   */
  transmit(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  /**
   * tx: like `transmit`, for packets in several buffers, with no staging copy: packet `i` is
   * `lengths[i]` bytes at byte `offsets[i]` of the buffer behind `views[viewOf[i]]` (offsets count
   * from the start of that ArrayBuffer, not of the view), for `i < count`; the first `viewCount`
   * views are used. One view stands for every packet in its buffer; a view over a
   * SharedArrayBuffer stands only for its own bytes. EINVAL, before anything is written, for a
   * packet that is empty or outside its buffer.
   */
  transmitViews(
    views: readonly Uint8Array[],
    viewCount: number,
    viewOf: Uint32Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
  ): number;
  /**
   * Client tx, zero-copy: hands out up to `max` free slots from head, writing for slot `i` the
   * region offset of its buffer (in region `bufferRegion`) into `offsets[i]` and its capacity
   * (`bufferSize`) into `capacities[i]`; returns how many (0 when the ring is full). The caller
   * writes packets straight into those buffers, then calls `commit`. Nothing is published and
   * head does not move, so reserving again without a commit hands out the same slots (a new
   * reservation replaces the old one). `transmit()` ends a reservation (it fills the same slots).
   * EINVAL on any other kind of queue.
   */
  reserve(offsets: Uint32Array, capacities: Uint32Array, max: number): number;
  /**
   * Client tx, zero-copy: publishes the first `count` reserved slots as one packet each, with
   * `lengths[i]` bytes: every descriptor is rewritten whole (region, offset of its own buffer,
   * length, flags 0), head is stored once with release, and the eventfd is signalled once if the
   * peer has not masked interrupts. Counts packets, bytes and a burst. Ends the reservation
   * (slots not committed are handed out again by the next `reserve`). Returns `count`, or fewer
   * only when the peer moved tail so as to take back reserved room (the rest counted
   * `ringFull`). EINVAL, before anything is written, when `count` exceeds the reservation or a
   * length is not in 1..capacity.
   */
  commit(lengths: Uint32Array, count: number): number;
  /** Packets (rx) waiting in the ring, or free slots (tx), right now (acquire load). */
  pending(): number;
  /**
   * Sets or clears MASK_INT on an rx ring (we poll / we want interrupts). Returns `pending()`
   * read after a full fence, so that a packet published while we armed interrupts is not missed.
   */
  setInterruptMask(masked: boolean): number;
  /** Client rx only: offers every free slot to the server (after CONNECTED). */
  refill(): void;
  readonly closed: boolean;
  /** Idempotent; does not close regions or the eventfd (the connection owns them). */
  close(): void;
}

export interface NativeQueueStatic {
  create(config: NativeQueueConfig): NativeQueue;
}
