#pragma once

#include <napi.h>

#include "handle_wrap.h"
#include "poller.h"
#include "unique_fd.h"

namespace rxmemif {

// One connected AF_UNIX SOCK_SEQPACKET socket (see NativeControlChannel in native.ts).
class ControlChannel : public HandleWrap<ControlChannel>, public PollTarget {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  // Wraps an accepted socket; the fd is closed if wrapping fails.
  static Napi::Object FromSocket(Napi::Env env, UniqueFd fd);

  explicit ControlChannel(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;
  void OnPoll(int status, int events) noexcept override;

 private:
  static Napi::Value Connect(const Napi::CallbackInfo& info);
  void Start(const Napi::CallbackInfo& info);
  void Send(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  // The peer's credentials (SO_PEERCRED), or undefined once closed.
  Napi::Value GetPeer(const Napi::CallbackInfo& info);

  void Adopt(UniqueFd fd);
  void ReadAll(Napi::Env env, int events);
  // The channel ended by itself: release, then report EOF (errnum 0) or the error once.
  void End(Napi::Env env, int errnum, const char* syscall);
  void Release() noexcept;

  int fd_ = -1;
  Poller* poller_ = nullptr;
  Napi::FunctionReference on_frame_;
  Napi::FunctionReference on_close_;
};

}  // namespace rxmemif
