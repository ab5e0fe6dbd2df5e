#pragma once

#include <napi.h>

#include "errors.h"
#include "handle_registry.h"

namespace rxmemif {

// Base of the JS classes: registration in the per-env registry, the `closed` getter, and pinning
// (a strong reference to the JS object while it is polled, so a listening or started object is
// not collected under its callbacks).
//
// Instances are made only by the addon's static factories: the constructor takes a private token.
template <typename T>
class HandleWrap : public Napi::ObjectWrap<T>, public Closable {
 public:
  explicit HandleWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<T>(info), registry_(Registry::From(info.Env())) {
    if (info.Length() != 1 || !info[0].IsExternal() ||
        info[0].As<Napi::External<char>>().Data() != &kToken) {
      Throw(info.Env(), EINVAL, "", "rx-memif native objects are created by their static methods");
    }
  }

  static Napi::Object NewInstance(Napi::Env env, const Napi::FunctionReference& js_class) {
    return js_class.New({Napi::External<char>::New(env, const_cast<char*>(&kToken))});
  }

  Napi::Value GetClosed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !open_);
  }

 protected:
  bool IsOpen() const { return open_; }

  void Register() {
    registry_.Add(this);
    open_ = true;
  }
  void Unregister() noexcept {
    if (open_) {
      open_ = false;
      registry_.Remove(this);
    }
  }

  void Pin() {
    if (!pinned_) {
      this->Ref();
      pinned_ = true;
    }
  }
  void Unpin() noexcept {
    if (pinned_) {
      pinned_ = false;
      try {
        this->Unref();
      } catch (...) {
      }
    }
  }

  Registry& registry_;

 private:
  static constexpr char kToken = 0;
  bool open_ = false;
  bool pinned_ = false;
};

}  // namespace rxmemif
