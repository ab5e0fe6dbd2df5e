#pragma once

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace rxmemif {

enum class CallResult { kReturned, kThrew, kNotRun };

// Calls a JS callback from a libuv callback through MakeCallback (so microtasks run after it).
// A JS exception becomes an uncaught exception (kThrew); nothing unwinds into libuv. kNotRun: the
// environment is stopping (worker exit) and runs no JS, so whatever was to be handed over is still
// the caller's to release.
CallResult Invoke(Napi::Env env, Napi::Function callback, Napi::Object receiver,
                  std::initializer_list<napi_value> args) noexcept;

// Runs the body of a libuv callback inside a HandleScope: a Napi::Error becomes an uncaught
// exception and any other C++ exception is dropped, because libuv cannot unwind.
template <typename Body>
void Guard(Napi::Env env, Body&& body) noexcept;

void ReportUncaught(Napi::Env env, const Napi::Error& error) noexcept;

// Reference::Reset() throws if napi_delete_reference fails; release paths must not.
template <typename T>
void ResetQuietly(Napi::Reference<T>& reference) noexcept {
  try {
    reference.Reset();
  } catch (...) {
  }
}

// Argument checks; failures throw EINVAL through the error factory.
std::string ArgString(const Napi::CallbackInfo& info, std::size_t index, const char* where,
                      const char* name);
Napi::Function ArgFunction(const Napi::CallbackInfo& info, std::size_t index, const char* where,
                           const char* name);
// A file descriptor: an integer in int range (negative allowed; callers decide).
int ArgFd(const Napi::CallbackInfo& info, std::size_t index, const char* where);
// A byte count: an integer in [1, 2^53 - 1].
// An integer from 1 to 2^53 - 1 (exact in a JS number), else EINVAL naming `name`.
std::uint64_t ArgPositiveInteger(const Napi::CallbackInfo& info, std::size_t index,
                                 const char* where, const char* name);
std::uint64_t ArgSize(const Napi::CallbackInfo& info, std::size_t index, const char* where);

template <typename Body>
void Guard(Napi::Env env, Body&& body) noexcept {
  try {
    // Outside the inner try: reporting an error needs a scope for its handles too.
    Napi::HandleScope scope(env);
    try {
      body();
    } catch (const Napi::Error& error) {
      ReportUncaught(env, error);
    }
  } catch (...) {
    // Only std::bad_alloc and the like can land here; there is no JS to report to.
  }
}

}  // namespace rxmemif
