#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>

#include "handle_wrap.h"
#include "poller.h"

namespace rxmemif {

// An eventfd shared by its owner and every attachment (in any environment); closed when the last
// of them lets go, so its number is never reused while one of them may still use it.
class SharedFd {
 public:
  explicit SharedFd(int fd) : fd_(fd) {}
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  ~SharedFd();

  int Get() const { return fd_; }

 private:
  const int fd_;
};

// A non-blocking eventfd used as a ring interrupt (see NativeEventFd in native.ts): the owner
// (create/adopt) or an attachment (attach: the same fd used from another environment, watched on
// that environment's loop).
class EventFd : public HandleWrap<EventFd>, public PollTarget {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit EventFd(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;
  void OnPoll(int status, int events) noexcept override;

  // For queues: the fd, -1 once closed.
  int Fd() const { return fd_; }
  bool Watching() const { return poller_ != nullptr; }

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Adopt(const Napi::CallbackInfo& info);
  static Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Share(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  void Signal(const Napi::CallbackInfo& info);
  Napi::Value Drain(const Napi::CallbackInfo& info);
  void Watch(const Napi::CallbackInfo& info);
  void Unwatch(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  static Napi::Object Wrap(Napi::Env env, int fd);
  static Napi::Object WrapShared(Napi::Env env, std::shared_ptr<SharedFd> fd, std::uint64_t token);
  // The counter's value, 0 when nothing is pending; -errno on failure.
  long long ReadCounter() const;
  void StopWatching() noexcept;
  void Release() noexcept;

  std::shared_ptr<SharedFd> shared_;
  // Cached from shared_; -1 once closed.
  int fd_ = -1;
  // 0 until shared (owner) or the token attached by (attachment).
  std::uint64_t token_ = 0;
  bool owner_ = false;
  Poller* poller_ = nullptr;
  Napi::FunctionReference on_signal_;
};

}  // namespace rxmemif
