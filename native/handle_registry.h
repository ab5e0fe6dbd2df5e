#pragma once

#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <unordered_set>

namespace rxmemif {

// An object owning OS resources that the environment's teardown must release.
class Closable {
 public:
  // Releases everything without calling into JS.
  virtual void CloseForTeardown() noexcept = 0;

 protected:
  ~Closable() = default;
};

// Per-environment state (instance data): one per main thread and per worker, so the addon never
// shares JS references between environments.
class Registry {
 public:
  explicit Registry(Napi::Env env);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  static Registry& From(Napi::Env env);
  static Registry* TryFrom(Napi::Env env);

  void Add(Closable* object);
  void Remove(Closable* object);
  std::size_t LiveCount() const { return live_.size(); }

  // The open object of type T that napi_unwrap() returned as `raw`, or null: checks the type
  // without dereferencing `raw` (a JS caller can give any object a native class's prototype).
  template <typename T>
  T* FindLive(const void* raw) const {
    if (raw == nullptr) return nullptr;
    for (Closable* object : live_) {
      T* typed = dynamic_cast<T*>(object);
      if (typed != nullptr && static_cast<const void*>(typed) == raw) return typed;
    }
    return nullptr;
  }

  // Whether an open object of type T satisfies `predicate`.
  template <typename T, typename Predicate>
  bool AnyLive(Predicate predicate) const {
    for (Closable* object : live_) {
      const T* typed = dynamic_cast<const T*>(object);
      if (typed != nullptr && predicate(*typed)) return true;
    }
    return false;
  }

  uv_loop_t* Loop() const { return loop_; }

  // uv handles between uv_close() and its callback; teardown waits for them, or the worker's
  // uv_loop_close() would find them still open.
  void HandleClosing() { ++closing_; }
  void HandleClosed();

  Napi::FunctionReference errorFactory;
  Napi::FunctionReference listenerClass;
  Napi::FunctionReference channelClass;
  Napi::FunctionReference regionClass;
  Napi::FunctionReference eventFdClass;
  Napi::FunctionReference queueClass;

 private:
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg);
  void FinishTeardownWhenIdle();

  napi_env env_;
  uv_loop_t* loop_ = nullptr;
  std::unordered_set<Closable*> live_;
  std::size_t closing_ = 0;
  napi_async_cleanup_hook_handle teardown_hook_ = nullptr;
};

}  // namespace rxmemif
