#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace rxmemif {

// A new process-wide share token (1, 2, ...): one counter for every kind of shared object, so a
// region's token given to EventFd.attach() finds nothing.
std::uint64_t NextShareToken() noexcept;

// What may be attached by token from any environment of the process (main thread or worker, see
// docs/architecture.md#worker-threads-what-is-shared-what-is-per-env). Holds no ownership: the
// owner removes its entry when it closes, and an attacher gets a strong reference only while the
// owner still holds one. Workers are other threads, hence the mutex; it is taken only by share,
// attach and close, never on the data path.
template <typename T>
class ShareTable {
 public:
  // One table per T for the whole process, never destroyed (a worker may still look things up
  // while the process runs its static destructors).
  static ShareTable& Get() {
    static auto* table = new ShareTable();
    return *table;
  }

  void Add(std::uint64_t token, const std::shared_ptr<T>& object) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[token] = object;
  }

  void Remove(std::uint64_t token) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.erase(token);
  }

  // The shared object, or null when the token is unknown or its owner has closed.
  std::shared_ptr<T> Find(std::uint64_t token) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = entries_.find(token);
    return found == entries_.end() ? nullptr : found->second.lock();
  }

 private:
  ShareTable() = default;
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<T>> entries_;
};

// The token argument of attach(): an integer from 1 to 2^53 - 1 (EINVAL otherwise).
std::uint64_t ArgToken(const Napi::CallbackInfo& info, std::size_t index, const char* where);

}  // namespace rxmemif
