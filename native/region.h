#pragma once

#include <napi.h>

#include <cstddef>

#include "handle_wrap.h"

namespace rxmemif {

// A shared-memory region mapped read-write and shared (see NativeRegion in native.ts).
class Region : public HandleWrap<Region> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit Region(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;

  // For queues: the mapping (null once closed) and its length.
  void* Base() const { return base_; }
  std::size_t Size() const { return size_; }

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetSeals(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  // Maps `fd` and wraps the mapping; the fd is closed on failure.
  static Napi::Object Wrap(Napi::Env env, int fd, std::size_t size, const std::string& what);
  void Release() noexcept;

  int fd_ = -1;
  void* base_ = nullptr;
  std::size_t size_ = 0;
  // The one ArrayBuffer over the mapping; kept after close() so `buffer` stays the detached one.
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

}  // namespace rxmemif
