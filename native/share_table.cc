#include "share_table.h"

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>

#include "errors.h"

namespace rxmemif {

std::uint64_t NextShareToken() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t ArgToken(const Napi::CallbackInfo& info, std::size_t index, const char* where) {
  constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1: exact in a JS number
  double value = info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(value) || std::trunc(value) != value || value < 1 || value > kMaxSafe) {
    char shown[32] = "not a number";
    if (info[index].IsNumber()) std::snprintf(shown, sizeof shown, "%.17g", value);
    Throw(info.Env(), EINVAL, "",
          std::string(where) + ": token must be an integer from 1 to 2^53 - 1, got " + shown);
  }
  return static_cast<std::uint64_t>(value);
}

}  // namespace rxmemif
