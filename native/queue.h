#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "handle_wrap.h"
#include "ring.h"

namespace rxmemif {

class EventFd;
class Region;

// One ring of a live connection driven in bursts (see NativeQueue in native.ts and
// docs/protocol.md#data-path-per-ring): client TX on S2M, server RX on S2M, server TX on M2S,
// client RX on M2S. Everything runs on the JS thread; one native call moves a whole burst.
class Queue : public HandleWrap<Queue> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit Queue(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;

 private:
  enum class Kind { kClientTx, kServerTx, kServerRx, kClientRx };

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

  // Per-packet reasons, committed to the counters only once a chain is complete (an incomplete
  // chain left for the next call must not be counted twice).
  struct Faults {
    double bad_flags = 0;
    double bad_region = 0;
    double bad_length = 0;
    double bad_bounds = 0;
  };

  static Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Receive(const Napi::CallbackInfo& info);
  Napi::Value Peek(const Napi::CallbackInfo& info);
  void ReleaseHeld(const Napi::CallbackInfo& info);
  Napi::Value Transmit(const Napi::CallbackInfo& info);
  Napi::Value Reserve(const Napi::CallbackInfo& info);
  Napi::Value Commit(const Napi::CallbackInfo& info);
  Napi::Value Pending(const Napi::CallbackInfo& info);
  Napi::Value SetInterruptMask(const Napi::CallbackInfo& info);
  void Refill(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  // Open, every region still mapped, counters reachable (switches to scratch counters when the
  // caller's array was detached or shrunk). Called first by every native call.
  bool Usable(napi_env env);
  void RequireRx(Napi::Env env, const char* where) const;

  bool IsRx() const { return kind_ == Kind::kServerRx || kind_ == Kind::kClientRx; }
  // Descriptors the peer has published beyond our cursor, clamped (and counted as badIndex when
  // `count_bad`).
  std::uint32_t RxAvailable(bool count_bad);
  std::uint32_t TxRoom(bool count_bad);
  // Walks available packets into `out`; returns packets reported, sets `consumed` slots.
  std::uint32_t RxWalk(const RxOutput& out, std::uint32_t* consumed);
  bool Validate(const ring::Descriptor& d, Faults* faults) const;
  // Returns consumed slots to the peer: server stores tail, client refills.
  void ReturnSlots(std::uint32_t consumed);
  // Counts badIndex at most once per native call: a peer index stays wrong across many checks.
  void NoteBadIndex();
  void RefillSlots();
  std::uint32_t TransmitClient(const std::uint8_t* data, const std::uint32_t* offsets,
                               const std::uint32_t* lengths, std::uint32_t count);
  std::uint32_t TransmitServer(const std::uint8_t* data, const std::uint32_t* offsets,
                               const std::uint32_t* lengths, std::uint32_t count);
  void Signal();
  void Release() noexcept;

  Kind kind_ = Kind::kClientTx;
  ring::RingView ring_;
  // Rx: last_head (server) / last_tail (client): the next descriptor to read.
  std::uint16_t cursor_ = 0;
  // Rx zero-copy: slots consumed by peek() and not yet released.
  std::uint32_t held_ = 0;
  // badIndex already counted in the current native call.
  bool bad_index_noted_ = false;
  std::uint64_t max_packet_ = 0;
  // Client tx, zero-copy: free slots from head handed out by reserve() and not yet committed.
  std::uint32_t reserved_ = 0;
  // Client: its own buffers.
  std::uint16_t buffer_region_ = 0;
  std::uint64_t buffer_base_ = 0;
  std::uint32_t buffer_size_ = 0;

  std::vector<MappedRegion> regions_;
  std::vector<Region*> region_objects_;
  std::vector<Napi::ObjectReference> region_refs_;
  EventFd* event_fd_ = nullptr;
  Napi::ObjectReference event_fd_ref_;
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double* counters_ = nullptr;
  double scratch_counters_[14] = {};
  // One chain's descriptors, read once each (N entries, allocated at create).
  std::vector<ring::Descriptor> chain_;
};

}  // namespace rxmemif
