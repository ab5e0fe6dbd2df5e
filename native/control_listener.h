#pragma once

#include <napi.h>
#include <sys/types.h>

#include <string>

#include "handle_wrap.h"
#include "poller.h"

namespace rxmemif {

// A listening AF_UNIX SOCK_SEQPACKET socket (see NativeControlListener in native.ts).
class ControlListener : public HandleWrap<ControlListener>, public PollTarget, public TimerTarget {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit ControlListener(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;
  void OnPoll(int status, int events) noexcept override;
  void OnTimer() noexcept override;

 private:
  static Napi::Value Listen(const Napi::CallbackInfo& info);
  Napi::Value GetAddress(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  void AcceptAll(Napi::Env env);
  // Reports an accept()/poll failure and pauses accepting for a moment: the listening socket
  // stays readable (e.g. EMFILE), so carrying on at once would spin.
  void Fail(Napi::Env env, int errnum, const char* syscall);
  void Release() noexcept;

  int fd_ = -1;
  std::string address_;
  std::string path_;  // empty for abstract names
  bool have_inode_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  Poller* poller_ = nullptr;
  Timer* backoff_ = nullptr;
  Napi::FunctionReference on_connection_;
  Napi::FunctionReference on_error_;
};

}  // namespace rxmemif
