#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "handle_wrap.h"
#include "ring_queue.h"

namespace rxmemif {

class EventFd;
class Region;

// The N-API binding of one ring (see NativeQueue in native.ts and
// docs/protocol.md#data-path-per-ring): argument checks, references that keep regions, eventfd and
// counters alive; the ring work is RingQueue. Everything runs on the JS thread; one native call
// moves a whole burst.
class Queue : public HandleWrap<Queue> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit Queue(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Receive(const Napi::CallbackInfo& info);
  Napi::Value Peek(const Napi::CallbackInfo& info);
  void ReleaseHeld(const Napi::CallbackInfo& info);
  Napi::Value Transmit(const Napi::CallbackInfo& info);
  Napi::Value TransmitViews(const Napi::CallbackInfo& info);
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

  // The ring's eventfd, or -1 once it was closed.
  int EventFdNumber() const;
  void Release() noexcept;

  RingQueue core_;
  std::vector<Region*> region_objects_;
  std::vector<Napi::ObjectReference> region_refs_;
  EventFd* event_fd_ = nullptr;
  Napi::ObjectReference event_fd_ref_;
  Napi::Reference<Napi::Float64Array> counters_ref_;
  double scratch_counters_[kCounterCount] = {};
  // transmitViews(): each view's buffer start and the byte range packets may use (reused).
  struct Extent {
    std::uint64_t begin;
    std::uint64_t end;
  };
  std::vector<const std::uint8_t*> view_bases_;
  std::vector<Extent> view_extents_;
};

}  // namespace rxmemif
