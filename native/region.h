#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "handle_wrap.h"

namespace rxmemif {

// One mmap() of a region, shared by the Region that made it and every attachment (in any
// environment); unmapped when the last of them lets go.
class SharedMapping {
 public:
  SharedMapping(void* base, std::size_t size) : base_(base), size_(size) {}
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  void* Base() const { return base_; }
  std::size_t Size() const { return size_; }

 private:
  void* const base_;
  const std::size_t size_;
};

// A shared-memory region mapped read-write and shared (see NativeRegion in native.ts): the owner
// (create/map: holds the fd) or an attachment (attach: the same mapping seen from another
// environment, no fd). Each has its own ArrayBuffer over the memory and is registered in its own
// environment's Registry.
class Region : public HandleWrap<Region> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit Region(const Napi::CallbackInfo& info) : HandleWrap(info) {}

  void Finalize(Napi::Env env) override;
  void CloseForTeardown() noexcept override;

  // For queues: the mapping (null once this object is closed) and its length.
  void* Base() const { return base_; }
  std::size_t Size() const { return size_; }

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Map(const Napi::CallbackInfo& info);
  static Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value Share(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetSeals(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);

  // Maps `fd` and wraps the mapping; the fd is closed on failure.
  static Napi::Object Wrap(Napi::Env env, int fd, std::size_t size, const std::string& what);
  // Wraps `mapping` in a new Region of `env`; `fd` (-1 for an attachment) passes to it.
  static Napi::Object WrapMapping(Napi::Env env, std::shared_ptr<SharedMapping> mapping, int fd,
                                  std::uint64_t token);
  void Release() noexcept;

  std::shared_ptr<SharedMapping> mapping_;
  int fd_ = -1;
  // Cached from mapping_ for the data path; null once closed.
  void* base_ = nullptr;
  std::size_t size_ = 0;
  // 0 until shared (owner) or the token attached by (attachment).
  std::uint64_t token_ = 0;
  bool owner_ = false;
  // The one ArrayBuffer over the mapping; kept after close() so `buffer` stays the detached one.
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

}  // namespace rxmemif
