#pragma once

#include <napi.h>

#include "handle_wrap.h"
#include "poller.h"

namespace rxmemif {

// A non-blocking eventfd used as a ring interrupt (see NativeEventFd in native.ts).
class EventFd : public HandleWrap<EventFd>, public PollTarget {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit EventFd(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;
  void OnPoll(int status, int events) noexcept override;

  // For queues: the fd, -1 once closed.
  int Fd() const { return fd_; }

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Adopt(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  void Signal(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  void Watch(const Napi::CallbackInfo& info);
  void Unwatch(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  static Napi::Object Wrap(Napi::Env env, int fd);
  // The counter's value, 0 when nothing is pending; -errno on failure.
  long long ReadCounter() const;
  void StopWatching() noexcept;
  void Release() noexcept;

  int fd_ = -1;
  Poller* poller_ = nullptr;
  Napi::FunctionReference on_signal_;
};

}  // namespace rxmemif
