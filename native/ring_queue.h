#pragma once

// The ring work of one queue (docs/architecture.md, "The hot path"): rx walk, chains, refill, tx
// room, transmit, zero-copy reserve/commit, bounds checks and counters. Plain C++ over a RingView
// and the mapped regions, with no N-API: native/queue.cc exposes it to JS, and
// test/native-unit/ring_test.cc drives it without Node.

#include <cstdint>
#include <vector>

#include "ring.h"

namespace rxmemif {

// QueueCounter in native.ts.
enum QueueCounter : unsigned {
  kPackets = 0,
  kBytes = 1,
  kBursts = 2,
  kRingFull = 3,
  kBadRegion = 4,
  kBadBounds = 5,
  kBadLength = 6,
  kBadFlags = 7,
  kBadChain = 8,
  kBadIndex = 9,
  kTooBig = 10,
  kDescriptors = 11,
  kInterrupts = 12,
  kBadOffer = 13,
  kCounterCount = 14,
};

// Descriptor offsets are u32.
constexpr std::uint64_t kMaxU32 = 0xffffffffu;

// One mapped region: where it lies in our address space.
struct MappedRegion {
  std::uint8_t* base;
  std::uint64_t size;
};

// Where one rx call puts its packets.
struct RxOutput {
  std::uint8_t* slab;
  std::uint64_t slab_length;
  std::uint64_t slab_offset;
  std::uint32_t* offsets;
  std::uint32_t* lengths;
  std::int32_t* regions;  // peek only: regions[0]
  std::uint32_t max_packets;
};

// Packets to transmit: packet i is `lengths[i]` bytes at `bases[base_of[i]] + offsets[i]`
// (`base_of` null: every packet is in bases[0]). The caller has checked every packet's bounds.
struct TxSource {
  const std::uint8_t* const* bases;
  const std::uint32_t* base_of;
  const std::uint32_t* offsets;
  const std::uint32_t* lengths;
  std::uint32_t count;

  const std::uint8_t* Data(std::uint32_t i) const {
    return bases[base_of != nullptr ? base_of[i] : 0] + offsets[i];
  }
};

// One ring of a live connection (memif-protocol rules in docs/protocol.md): client TX on S2M,
// server RX on S2M, server TX on M2S, client RX on M2S. Single-threaded; every call that touches
// the ring starts with BeginCall().
class RingQueue {
 public:
  enum class Kind { kClientTx, kServerTx, kServerRx, kClientRx };

  struct Config {
    Kind kind;
    ring::RingView ring;
    std::vector<MappedRegion> regions;
    std::uint64_t max_packet;
    // Client only: its own buffers (slot j at buffer_base + j * buffer_size in buffer_region).
    std::uint16_t buffer_region;
    std::uint64_t buffer_base;
    std::uint32_t buffer_size;
    // Client rx taken over mid-connection from another queue object (a worker thread that exited,
    // or one that takes the queue): read on from where that one returned its last slot.
    bool resume = false;
  };

  // Ready to use; Reset() makes it inert again.
  void Open(Config config);
  void Reset() noexcept;

  bool IsRx() const { return kind_ == Kind::kServerRx || kind_ == Kind::kClientRx; }
  Kind GetKind() const { return kind_; }
  const std::vector<MappedRegion>& Regions() const { return regions_; }
  std::uint32_t BufferSize() const { return buffer_size_; }
  std::uint32_t Reserved() const { return reserved_; }

  // `counters` (kCounterCount doubles) for this call; badIndex is counted at most once per call.
  void BeginCall(double* counters) {
    counters_ = counters;
    bad_index_noted_ = false;
  }

  // rx, copy mode: returns held slots, walks up to out.max_packets packets into the slab and
  // returns their slots. Returns the packet count.
  std::uint32_t Receive(const RxOutput& out);
  // rx, zero-copy: like Receive, but keeps the slots of reported packets until ReleaseHeld().
  std::uint32_t Peek(const RxOutput& out);
  void ReleaseHeld();
  // Client rx: offers every free slot to the server.
  void RefillSlots();
  // rx: sets or clears MASK_INT, then returns Pending() read after a full fence.
  std::uint32_t SetInterruptMask(bool masked);
  // rx: packets waiting beyond those held; tx: free slots (client) or offered buffers (server).
  std::uint32_t Pending();

  // tx: copies packets into the ring (chains for packets larger than a buffer), publishes once
  // and signals `event_fd` (if >= 0 and the peer has not masked interrupts). Returns the number
  // of packets handled (sent or dropped as tooBig), a prefix of the source.
  std::uint32_t Transmit(const TxSource& source, int event_fd);
  // Client tx, zero-copy: free slots from head (at most `max`) into offsets/capacities.
  std::uint32_t Reserve(std::uint32_t* offsets, std::uint32_t* capacities, std::uint32_t max);
  // Client tx, zero-copy: publishes `count` (<= Reserved()) slots with the given lengths (each
  // 1..BufferSize(), checked by the caller).
  std::uint32_t Commit(const std::uint32_t* lengths, std::uint32_t count, int event_fd);

 private:
  // Per-packet reasons, committed to the counters only once a chain is complete (an incomplete
  // chain left for the next call must not be counted twice).
  struct Faults {
    double bad_flags = 0;
    double bad_region = 0;
    double bad_length = 0;
    double bad_bounds = 0;
  };

  // Descriptors the peer has published beyond our cursor, clamped (and counted as badIndex when
  // `count_bad`).
  std::uint32_t RxAvailable(bool count_bad);
  std::uint32_t TxRoom(bool count_bad);
  // Walks available packets into `out`; returns packets reported, sets `consumed` slots.
  std::uint32_t RxWalk(const RxOutput& out, std::uint32_t* consumed);
  // Starts loading the buffer a descriptor points at (see RxWalk).
  void Prefetch(const ring::Descriptor& d, bool for_write = false) const;
  static constexpr std::uint32_t kPrefetchSlots = 8;
  bool Validate(const ring::Descriptor& d, Faults* faults) const;
  // Returns consumed slots to the peer: server stores tail, client refills.
  void ReturnSlots(std::uint32_t consumed);
  void NoteBadIndex();
  std::uint32_t TransmitClient(const TxSource& packets, int event_fd);
  std::uint32_t TransmitServer(const TxSource& packets, int event_fd);
  // Stores the producer index past `slots` new slots (release: the descriptors and data written
  // before it become the peer's), counts what was sent and signals once per burst.
  void Publish(std::atomic_ref<std::uint16_t> index, std::uint16_t from, std::uint32_t slots,
               std::uint32_t packets, std::uint64_t bytes, int event_fd);
  void Signal(int event_fd);

  Kind kind_ = Kind::kClientTx;
  ring::RingView ring_;
  // Rx: last_head (server) / last_tail (client): the next descriptor to read.
  std::uint16_t cursor_ = 0;
  // Rx zero-copy: slots consumed by peek() and not yet released.
  std::uint32_t held_ = 0;
  // badIndex already counted in the current call.
  bool bad_index_noted_ = false;
  std::uint64_t max_packet_ = 0;
  // Client tx, zero-copy: free slots from head handed out by reserve() and not yet committed.
  std::uint32_t reserved_ = 0;
  std::uint16_t buffer_region_ = 0;
  std::uint64_t buffer_base_ = 0;
  std::uint32_t buffer_size_ = 0;
  std::vector<MappedRegion> regions_;
  double* counters_ = nullptr;
  // One chain's descriptors, read once each (N entries, allocated at Open).
  std::vector<ring::Descriptor> chain_;
};

}  // namespace rxmemif
