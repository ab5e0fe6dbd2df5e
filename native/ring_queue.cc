#include "ring_queue.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rxmemif {

using ring::Descriptor;
using ring::kDescFlagNext;
using ring::kRingFlagMaskInt;

void RingQueue::Open(Config config) {
  kind_ = config.kind;
  ring_ = config.ring;
  regions_ = std::move(config.regions);
  max_packet_ = config.max_packet;
  buffer_region_ = config.buffer_region;
  buffer_base_ = config.buffer_base;
  buffer_size_ = config.buffer_size;
  cursor_ = 0;
  held_ = 0;
  reserved_ = 0;
  chain_.resize(ring_.Size());
  // Server rx: last_head starts at tail (reset to 0 on CONNECT). Client rx: last_tail = tail.
  if (IsRx()) cursor_ = ring_.Tail().load(std::memory_order_acquire);
  // A client returns (refills) every slot it has read, so the previous owner's last returned slot
  // is a ring's worth behind head: packets the server wrote after it are read, not skipped (from
  // tail they would be lost uncounted), and any it had read without returning come again
  // (docs/architecture.md#queues-in-worker-threads). Head and tail both 0: nobody offered yet.
  if (kind_ == Kind::kClientRx && config.resume) {
    const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
    if (head != 0 || cursor_ != 0) cursor_ = static_cast<std::uint16_t>(head - ring_.Size());
  }
}

void RingQueue::Reset() noexcept {
  regions_.clear();
  counters_ = nullptr;
  held_ = 0;
  reserved_ = 0;
  ring_ = ring::RingView();
  chain_.clear();
  chain_.shrink_to_fit();
}

// --- rx ------------------------------------------------------------------------------------------

std::uint32_t RingQueue::RxAvailable(bool count_bad) {
  const std::uint32_t n = ring_.Size();
  std::uint16_t produced;
  std::uint32_t limit = n;
  if (kind_ == Kind::kServerRx) {
    produced = ring_.Head().load(std::memory_order_acquire);
  } else {
    produced = ring_.Tail().load(std::memory_order_acquire);
    // The server can only fill buffers we offered: [last_tail, head).
    limit = static_cast<std::uint16_t>(ring_.Head().load(std::memory_order_relaxed) - cursor_);
    if (limit > n) limit = n;
  }
  std::uint32_t available = static_cast<std::uint16_t>(produced - cursor_);
  if (available > limit) {
    if (count_bad) NoteBadIndex();
    available = limit;
  }
  return available;
}

void RingQueue::NoteBadIndex() {
  if (std::exchange(bad_index_noted_, true)) return;
  counters_[kBadIndex]++;
}

bool RingQueue::Validate(const Descriptor& d, Faults* faults) const {
  if ((d.flags & ~kDescFlagNext) != 0) {
    faults->bad_flags++;
    return false;
  }
  if (d.region >= regions_.size()) {
    faults->bad_region++;
    return false;
  }
  if (d.length == 0) {
    faults->bad_length++;
    return false;
  }
  if (static_cast<std::uint64_t>(d.offset) + d.length > regions_[d.region].size) {
    faults->bad_bounds++;
    return false;
  }
  return true;
}

// The peer's core has just written the packets (rx) or read our buffers (tx), so each buffer
// is a cache miss; a copy that waits for one miss at a time is bound by their latency. Asking
// for a buffer a few slots ahead keeps several in flight (+5-9 % one way at 64 B). Prefetches
// never fault: an out-of-bounds offset is only checked (and refused) when its turn comes; the
// region index is checked here since it selects the base.
void RingQueue::Prefetch(const Descriptor& d, bool for_write) const {
  if (d.region >= regions_.size()) return;
  const std::uint8_t* p = regions_[d.region].base + d.offset;
  if (for_write) {
    __builtin_prefetch(p, 1);
  } else {
    __builtin_prefetch(p, 0);
  }
}

std::uint32_t RingQueue::RxWalk(const RxOutput& out, std::uint32_t* consumed) {
  enum class Source { kNone, kInPlace, kSlab };
  const std::uint32_t available = RxAvailable(true);
  const std::uint32_t n = ring_.Size();
  std::uint32_t pos = 0;
  std::uint32_t packets = 0;
  std::uint64_t used = out.slab_offset;
  std::uint64_t bytes = 0;
  Source source = Source::kNone;
  std::uint16_t in_place_region = 0;
  Faults faults;
  double bad_chains = 0;
  double too_big = 0;

  while (packets < out.max_packets && pos < available) {
    if (pos + kPrefetchSlots < available) Prefetch(ring_.Read(cursor_ + pos + kPrefetchSlots));
    Faults packet_faults;
    bool bad = false;
    bool complete = false;
    std::uint32_t segments = 0;
    std::uint64_t total = 0;
    while (pos + segments < available) {
      const Descriptor d = ring_.Read(cursor_ + pos + segments);
      chain_[segments++] = d;
      if (Validate(d, &packet_faults)) {
        total += d.length;
      } else {
        bad = true;
      }
      if ((d.flags & kDescFlagNext) == 0) {
        complete = true;
        break;
      }
    }
    if (!complete) {
      // NEXT on the last available slot: wait for the rest, unless the chain already fills the
      // whole ring and so can never end.
      if (pos != 0 || segments != n) break;
      bad_chains++;
      bad = true;
    }
    faults.bad_flags += packet_faults.bad_flags;
    faults.bad_region += packet_faults.bad_region;
    faults.bad_length += packet_faults.bad_length;
    faults.bad_bounds += packet_faults.bad_bounds;
    if (bad) {
      pos += segments;
      continue;
    }
    if (total > max_packet_) {
      too_big++;
      pos += segments;
      continue;
    }
    if (out.regions != nullptr && segments == 1) {
      // Zero-copy: in place, all from one region, never mixed with slab packets.
      const Descriptor& d = chain_[0];
      if (source == Source::kSlab || (source == Source::kInPlace && d.region != in_place_region)) {
        break;
      }
      source = Source::kInPlace;
      in_place_region = d.region;
      out.offsets[packets] = d.offset;
      out.lengths[packets] = d.length;
    } else {
      if (source == Source::kInPlace) break;
      if (total > out.slab_length - used) break;
      if (out.regions != nullptr) source = Source::kSlab;
      out.offsets[packets] = static_cast<std::uint32_t>(used);
      out.lengths[packets] = static_cast<std::uint32_t>(total);
      for (std::uint32_t k = 0; k < segments; k++) {
        const Descriptor& d = chain_[k];
        std::memcpy(out.slab + used, regions_[d.region].base + d.offset, d.length);
        used += d.length;
      }
    }
    bytes += total;
    packets++;
    pos += segments;
  }

  if (out.regions != nullptr) {
    out.regions[0] = source == Source::kInPlace ? static_cast<std::int32_t>(in_place_region) : -1;
  }
  double* c = counters_;
  c[kBadFlags] += faults.bad_flags;
  c[kBadRegion] += faults.bad_region;
  c[kBadLength] += faults.bad_length;
  c[kBadBounds] += faults.bad_bounds;
  c[kBadChain] += bad_chains;
  c[kTooBig] += too_big;
  c[kDescriptors] += pos;
  c[kPackets] += packets;
  c[kBytes] += static_cast<double>(bytes);
  if (packets > 0) c[kBursts]++;
  *consumed = pos;
  return packets;
}

void RingQueue::ReturnSlots(std::uint32_t consumed) {
  cursor_ = static_cast<std::uint16_t>(cursor_ + consumed);
  if (kind_ == Kind::kServerRx) {
    if (consumed > 0) ring_.Tail().store(cursor_, std::memory_order_release);
    return;
  }
  // A tail beyond the head we still publish means the server wrote into slots we had not offered
  // (DPDK 22.11 does, see data.spec.ts) while we were reading or holding them. Refilling first
  // would move head past that tail and hide it for good, so look now (RxAvailable counts it).
  RxAvailable(true);
  RefillSlots();
}

void RingQueue::RefillSlots() {
  const std::uint32_t n = ring_.Size();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  // Slots offered and not yet read back, plus those held by peek().
  const std::uint32_t outstanding = static_cast<std::uint16_t>(head - cursor_);
  if (outstanding >= n) return;
  const std::uint32_t count = n - outstanding;
  const std::uint32_t mask = ring_.Mask();
  for (std::uint32_t k = 0; k < count; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    ring_.Write(index,
                Descriptor{0, buffer_region_, buffer_size_, static_cast<std::uint32_t>(offset), 0});
  }
  ring_.Head().store(static_cast<std::uint16_t>(head + count), std::memory_order_release);
}

std::uint32_t RingQueue::Receive(const RxOutput& out) {
  if (held_ > 0) ReturnSlots(std::exchange(held_, 0));
  std::uint32_t consumed = 0;
  const std::uint32_t packets = RxWalk(out, &consumed);
  ReturnSlots(consumed);
  return packets;
}

std::uint32_t RingQueue::Peek(const RxOutput& out) {
  // A peek without release: the previous packets are done with.
  if (held_ > 0) ReturnSlots(std::exchange(held_, 0));
  std::uint32_t consumed = 0;
  const std::uint32_t packets = RxWalk(out, &consumed);
  if (packets == 0) {
    // Only dropped descriptors (if any): nothing for the caller to release.
    ReturnSlots(consumed);
  } else {
    held_ = consumed;
  }
  return packets;
}

void RingQueue::ReleaseHeld() {
  ReturnSlots(std::exchange(held_, 0));
}

std::uint32_t RingQueue::SetInterruptMask(bool masked) {
  // Only the receiver writes the ring flags.
  std::atomic_ref<std::uint16_t> flags = ring_.Flags();
  const std::uint16_t old = flags.load(std::memory_order_relaxed);
  const std::uint16_t value = masked ? static_cast<std::uint16_t>(old | kRingFlagMaskInt)
                                     : static_cast<std::uint16_t>(old & ~kRingFlagMaskInt);
  flags.store(value, std::memory_order_relaxed);
  // Pairs with the producer's fence between publishing and reading the flags: either it sees
  // the flag clear and signals, or we see its packets below.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t available = RxAvailable(false);
  return available > held_ ? available - held_ : 0;
}

std::uint32_t RingQueue::Pending() {
  if (IsRx()) {
    const std::uint32_t available = RxAvailable(false);
    return available > held_ ? available - held_ : 0;
  }
  return TxRoom(false);
}

// --- tx ------------------------------------------------------------------------------------------

std::uint32_t RingQueue::TxRoom(bool count_bad) {
  const std::uint32_t n = ring_.Size();
  if (kind_ == Kind::kClientTx) {
    // Free = N - (head - tail); a tail beyond head (or further back than N) leaves no room.
    const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
    const std::uint16_t tail = ring_.Tail().load(std::memory_order_acquire);
    const std::uint32_t in_flight = static_cast<std::uint16_t>(head - tail);
    if (in_flight > n) {
      if (count_bad) NoteBadIndex();
      return 0;
    }
    return n - in_flight;
  }
  // Server: the client's offered buffers [tail, head).
  const std::uint16_t tail = ring_.Tail().load(std::memory_order_relaxed);
  const std::uint16_t head = ring_.Head().load(std::memory_order_acquire);
  const std::uint32_t offered = static_cast<std::uint16_t>(head - tail);
  if (offered > n) {
    if (count_bad) NoteBadIndex();
    return n;
  }
  return offered;
}

void RingQueue::Publish(std::atomic_ref<std::uint16_t> index, std::uint16_t from,
                        std::uint32_t slots, std::uint32_t packets, std::uint64_t bytes,
                        int event_fd) {
  if (slots > 0) {
    index.store(static_cast<std::uint16_t>(from + slots), std::memory_order_release);
  }
  double* c = counters_;
  c[kPackets] += packets;
  c[kBytes] += static_cast<double>(bytes);
  if (packets > 0) {
    c[kBursts]++;
    Signal(event_fd);
  }
}

void RingQueue::Signal(int fd) {
  // Publication (release store) before reading the receiver's flag; pairs with the fence in
  // setInterruptMask.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if ((ring_.Flags().load(std::memory_order_acquire) & kRingFlagMaskInt) != 0) return;
  if (fd < 0) return;
  const std::uint64_t one = 1;
  ssize_t written;
  do {
    written = ::write(fd, &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // EAGAIN: the counter is saturated, the receiver is woken anyway.
  if (written == sizeof one || (written < 0 && errno == EAGAIN)) counters_[kInterrupts]++;
}

std::uint32_t RingQueue::TransmitClient(const TxSource& packets, int event_fd) {
  const std::uint32_t count = packets.count;
  const std::uint32_t n = ring_.Size();
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  const std::uint32_t room = TxRoom(true);
  const MappedRegion& buffers = regions_[buffer_region_];
  double* c = counters_;
  std::uint32_t used = 0;
  std::uint32_t handled = 0;
  std::uint32_t sent = 0;
  std::uint64_t bytes = 0;
  for (; handled < count; handled++) {
    if (used + kPrefetchSlots < room) {
      // Our own buffers, which the peer read since: each store would wait for its line (see
      // Prefetch). Out of bounds is refused below, not here.
      const std::uint32_t ahead = static_cast<std::uint16_t>(head + used + kPrefetchSlots);
      const std::uint64_t at = buffer_base_ + std::uint64_t{ahead & mask} * buffer_size_;
      if (at < buffers.size) __builtin_prefetch(buffers.base + at, 1);
    }
    const std::uint32_t length = packets.lengths[handled];
    const std::uint64_t needed = (std::uint64_t{length} + buffer_size_ - 1) / buffer_size_;
    if (needed > n) {
      // Larger than the whole ring: it can never be sent, so it must not block the rest.
      c[kTooBig]++;
      continue;
    }
    if (needed > room - used) {
      c[kRingFull] += count - handled;
      break;
    }
    const std::uint8_t* source = packets.Data(handled);
    std::uint32_t remaining = length;
    bool fits = true;
    for (std::uint32_t k = 0; k < needed; k++) {
      const std::uint32_t index = static_cast<std::uint16_t>(head + used + k);
      const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
      if (offset + buffer_size_ > buffers.size || offset > kMaxU32) {
        fits = false;
        break;
      }
      const std::uint32_t segment = std::min(remaining, buffer_size_);
      // memmove: the source may be shared memory too (a zero-copy rx view reflected straight
      // back, see TxPort.pushBurst), which a peer can make overlap this buffer.
      std::memmove(buffers.base + offset, source, segment);
      source += segment;
      remaining -= segment;
      // Rewritten whole every time: a peer may have scribbled on region/offset.
      ring_.Write(index,
                  Descriptor{static_cast<std::uint16_t>(remaining > 0 ? kDescFlagNext : 0),
                             buffer_region_, segment, static_cast<std::uint32_t>(offset), 0});
    }
    if (!fits) {
      c[kBadBounds]++;
      break;
    }
    used += static_cast<std::uint32_t>(needed);
    bytes += length;
    sent++;
  }
  Publish(ring_.Head(), head, used, sent, bytes, event_fd);
  return handled;
}

std::uint32_t RingQueue::TransmitServer(const TxSource& packets, int event_fd) {
  const std::uint32_t count = packets.count;
  const std::uint32_t n = ring_.Size();
  const std::uint16_t tail = ring_.Tail().load(std::memory_order_relaxed);
  const std::uint32_t offered = TxRoom(true);
  double* c = counters_;
  std::uint32_t used = 0;
  std::uint32_t handled = 0;
  std::uint32_t sent = 0;
  std::uint64_t bytes = 0;
  bool stop = false;
  for (; handled < count; handled++) {
    if (used + kPrefetchSlots < offered) {
      Prefetch(ring_.Read(static_cast<std::uint16_t>(tail + used + kPrefetchSlots)), true);
    }
    const std::uint32_t length = packets.lengths[handled];
    const std::uint8_t* source = packets.Data(handled);
    std::uint32_t remaining = length;
    std::uint32_t k = 0;
    bool room = true;
    while (remaining > 0) {
      if (used + k >= offered) {
        room = false;
        break;
      }
      const std::uint32_t index = static_cast<std::uint16_t>(tail + used + k);
      // Capacity, region and offset as the client offered them; never written back.
      const Descriptor d = ring_.Read(index);
      if (d.region >= regions_.size() || d.length == 0 ||
          static_cast<std::uint64_t>(d.offset) + d.length > regions_[d.region].size) {
        // Left in place: the client owns it; what was sent so far is published.
        c[kBadOffer]++;
        stop = true;
        break;
      }
      const std::uint32_t segment = std::min(remaining, d.length);
      // memmove: the client may offer a buffer overlapping the source (a zero-copy rx view
      // reflected straight back lies in the same regions).
      std::memmove(regions_[d.region].base + d.offset, source, segment);
      source += segment;
      remaining -= segment;
      k++;
      ring_.WriteLengthAndFlags(index, segment,
                                static_cast<std::uint16_t>(remaining > 0 ? kDescFlagNext : 0));
    }
    if (stop) break;
    if (!room) {
      if (used == 0 && offered == n) {
        // Does not fit even in a whole ring of the client's buffers.
        c[kTooBig]++;
        continue;
      }
      c[kRingFull] += count - handled;
      break;
    }
    used += k;
    bytes += length;
    sent++;
  }
  Publish(ring_.Tail(), tail, used, sent, bytes, event_fd);
  return handled;
}

std::uint32_t RingQueue::Transmit(const TxSource& packets, int event_fd) {
  if (packets.count == 0) return 0;
  // Transmit fills the slots from head: a reservation made before would now name sent ones.
  reserved_ = 0;
  return kind_ == Kind::kClientTx ? TransmitClient(packets, event_fd)
                                  : TransmitServer(packets, event_fd);
}

// --- client tx, zero-copy ------------------------------------------------------------------------

std::uint32_t RingQueue::Reserve(std::uint32_t* offsets, std::uint32_t* capacities,
                                 std::uint32_t max) {
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  const std::uint32_t room = TxRoom(true);
  const std::uint32_t wanted = std::min(max, room);
  const MappedRegion& buffers = regions_[buffer_region_];
  std::uint32_t k = 0;
  for (; k < wanted; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    // Checked at create; kept so that no slot beyond the mapping is ever handed out.
    if (offset + buffer_size_ > buffers.size || offset > kMaxU32) {
      counters_[kBadBounds]++;
      break;
    }
    offsets[k] = static_cast<std::uint32_t>(offset);
    capacities[k] = buffer_size_;
  }
  // The same slots again until commit: head has not moved.
  reserved_ = k;
  return k;
}

std::uint32_t RingQueue::Commit(const std::uint32_t* lengths, std::uint32_t count, int event_fd) {
  if (count == 0) return 0;
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  // Only a peer moving tail wrongly shrinks the room reserved earlier (counted as badIndex).
  const std::uint32_t n = std::min(count, TxRoom(true));
  std::uint64_t bytes = 0;
  for (std::uint32_t k = 0; k < n; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    // Rewritten whole: a peer may have scribbled on region/offset.
    ring_.Write(index,
                Descriptor{0, buffer_region_, lengths[k], static_cast<std::uint32_t>(offset), 0});
    bytes += lengths[k];
  }
  reserved_ = 0;
  double* c = counters_;
  if (n < count) c[kRingFull] += static_cast<double>(count - n);
  Publish(ring_.Head(), head, n, n, bytes, event_fd);
  return n;
}

}  // namespace rxmemif
