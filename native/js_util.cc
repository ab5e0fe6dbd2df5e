#include "js_util.h"

#include <cmath>
#include <cstdio>

#include "errors.h"

namespace rxmemif {

void ReportUncaught(Napi::Env env, const Napi::Error& error) noexcept {
  try {
    // Returns early (no-op) when the environment can no longer run JS, e.g. worker.terminate().
    napi_fatal_exception(env, error.Value());
  } catch (...) {
  }
}

CallResult Invoke(Napi::Env env, Napi::Function callback, Napi::Object receiver,
                  std::initializer_list<napi_value> args) noexcept {
  if (callback.IsEmpty()) return CallResult::kNotRun;
  napi_value result = nullptr;
  napi_status status =
      napi_make_callback(env, nullptr, receiver, callback, args.size(), args.begin(), &result);
  if (status == napi_ok) return CallResult::kReturned;
  // Node answers napi_pending_exception without an exception when it can no longer run JS.
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return CallResult::kNotRun;
  napi_value error = nullptr;
  if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  return CallResult::kThrew;
}

namespace {

[[noreturn]] void InvalidArgument(Napi::Env env, const char* where, const std::string& what) {
  Throw(env, EINVAL, "", std::string(where) + ": " + what);
}

}  // namespace

std::string ArgString(const Napi::CallbackInfo& info, std::size_t index, const char* where,
                      const char* name) {
  if (!info[index].IsString()) {
    InvalidArgument(info.Env(), where, std::string(name) + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, std::size_t index, const char* where,
                           const char* name) {
  if (!info[index].IsFunction()) {
    InvalidArgument(info.Env(), where, std::string(name) + " must be a function");
  }
  return info[index].As<Napi::Function>();
}

int ArgFd(const Napi::CallbackInfo& info, std::size_t index, const char* where) {
  double value = info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(value) || std::trunc(value) != value || value < -2147483648.0 ||
      value > 2147483647.0) {
    InvalidArgument(info.Env(), where, "fd must be an integer");
  }
  return static_cast<int>(value);
}

std::uint64_t ArgPositiveInteger(const Napi::CallbackInfo& info, std::size_t index,
                                 const char* where, const char* name) {
  constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1: exact in a JS number
  double value = info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(value) || std::trunc(value) != value || value < 1 || value > kMaxSafe) {
    char shown[32] = "not a number";
    if (info[index].IsNumber()) std::snprintf(shown, sizeof shown, "%.17g", value);
    InvalidArgument(info.Env(), where,
                    std::string(name) + " must be an integer from 1 to 2^53 - 1, got " + shown);
  }
  return static_cast<std::uint64_t>(value);
}

std::uint64_t ArgSize(const Napi::CallbackInfo& info, std::size_t index, const char* where) {
  return ArgPositiveInteger(info, index, where, "size");
}

}  // namespace rxmemif
