#include "slab_pool.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace rxmemif {

namespace {

// Must match SLAB_TOTAL in src/streams/rx-port.ts: 4 MiB of packet bytes and two index arrays of
// 64 Ki u32 entries.
constexpr std::size_t kSlabBytes = 4 * 1024 * 1024 + 2 * 64 * 1024 * 4;
// Free slabs kept for reuse (more go back to the allocator): enough for the slabs out between
// two GCs, see kUncounted.
constexpr std::size_t kMaxFree = 16;
// Slabs out at once. A slab comes back only after a full GC and then a turn of the event loop
// (Node runs external-buffer finalizers as immediates); where slabs are used up faster than
// that (large packets at a high rate), more would pile up out of reach, so beyond this the
// caller allocates in JS, where V8 frees memory itself.
constexpr std::size_t kMaxOut = 16;
// Slabs out at once that V8 is told are not new memory. V8 counts every ArrayBuffer's bytes as
// fresh external memory and starts a full GC every few slabs for it; a reused slab is not
// fresh, so up to this many are taken off that count again (memory stays bounded: beyond it,
// slabs count as usual and the GC that frees them comes as it would).
constexpr std::size_t kUncounted = 12;

// Slabs are mapped and unmapped whole: memory given back leaves the process at once (a malloc
// heap would keep its high-water mark).
void* MapSlab() {
  void* data =
      ::mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return data == MAP_FAILED ? nullptr : data;
}

void UnmapSlab(void* data) {
  ::munmap(data, kSlabBytes);
}

// Shared by the env and every slab out; deleted by whichever lets go last.
struct Pool {
  std::vector<void*> free;
  std::size_t out = 0;
  std::size_t uncounted = 0;
  bool closed = false;
};

// The finalizer's hint: the pool, and whether V8's count was adjusted for this slab.
struct Lease {
  Pool* pool;
  bool uncounted;
};

void DeleteIfDone(Pool* pool) {
  if (pool->closed && pool->out == 0) delete pool;
}

// The ArrayBuffer is gone: its memory is no longer reachable from JS.
void ReturnSlab(napi_env env, void* data, void* hint) {
  auto* lease = static_cast<Lease*>(hint);
  Pool* pool = lease->pool;
  if (lease->uncounted) {
    pool->uncounted--;
    // V8 subtracts the buffer's bytes as it frees it: give back what was taken off.
    if (!pool->closed) {
      std::int64_t ignored = 0;
      napi_adjust_external_memory(env, static_cast<std::int64_t>(kSlabBytes), &ignored);
    }
  }
  delete lease;
  pool->out--;
  if (!pool->closed && pool->free.size() < kMaxFree) {
    pool->free.push_back(data);
  } else {
    UnmapSlab(data);
  }
  DeleteIfDone(pool);
}

void ClosePool(void* arg) {
  auto* pool = static_cast<Pool*>(arg);
  for (void* slab : pool->free) UnmapSlab(slab);
  pool->free.clear();
  pool->closed = true;
  DeleteIfDone(pool);
}

Napi::Value TakeSlab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* pool = static_cast<Pool*>(info.Data());
  if (pool->out >= kMaxOut) return env.Undefined();
  void* data = nullptr;
  const bool reused = !pool->free.empty();
  if (reused) {
    data = pool->free.back();
    pool->free.pop_back();
  } else {
    data = MapSlab();
    if (data == nullptr) return env.Undefined();
  }
  auto* lease = new Lease{pool, reused && pool->uncounted < kUncounted};
  napi_value buffer = nullptr;
  const napi_status status =
      napi_create_external_arraybuffer(env, data, kSlabBytes, ReturnSlab, lease, &buffer);
  if (status != napi_ok) {
    delete lease;
    // napi_no_external_buffers_allowed (a V8 sandbox) or an exception pending: keep the memory.
    pool->free.push_back(data);
    if (status == napi_pending_exception) throw env.GetAndClearPendingException();
    return env.Undefined();
  }
  pool->out++;
  if (lease->uncounted) {
    pool->uncounted++;
    std::int64_t ignored = 0;
    napi_adjust_external_memory(env, -static_cast<std::int64_t>(kSlabBytes), &ignored);
  }
  return Napi::Value(env, buffer);
}

}  // namespace

Napi::Function DefineTakeSlab(Napi::Env env) {
  auto* pool = new Pool();
  if (napi_add_env_cleanup_hook(env, ClosePool, pool) != napi_ok) {
    delete pool;
    NAPI_THROW(Napi::Error::New(env, "rx-memif: cannot register the slab pool's cleanup hook"),
               Napi::Function());
  }
  return Napi::Function::New(env, TakeSlab, "takeSlab", pool);
}

}  // namespace rxmemif
