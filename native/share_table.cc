#include "share_table.h"

#include <atomic>

#include "js_util.h"

namespace rxmemif {

std::uint64_t NextShareToken() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t ArgToken(const Napi::CallbackInfo& info, std::size_t index, const char* where) {
  return ArgPositiveInteger(info, index, where, "token");
}

}  // namespace rxmemif
