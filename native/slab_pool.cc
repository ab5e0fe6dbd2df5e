#include "slab_pool.h"

#include <sys/mman.h>

#include <cstdlib>
#include <vector>

namespace rxmemif {

namespace {

// Must match SLAB_TOTAL in src/streams/rx-port.ts: 4 MiB of packet bytes and two index arrays of
// 64 Ki u32 entries.
constexpr std::size_t kSlabBytes = 4 * 1024 * 1024 + 2 * 64 * 1024 * 4;
// Slabs out at once. In steady state about 8 are out (see Nudge); more are out while a
// subscriber keeps packets past a second scavenge (those slabs are promoted and come back only
// after a full GC). Beyond the cap the caller allocates in JS, where V8 frees memory itself:
// pool memory stays bounded (32 x 4.5 MiB) whatever a subscriber holds.
constexpr std::size_t kMaxOut = 32;
// Free slabs kept for reuse (more go back to the system): the steady state's working set.
constexpr std::size_t kMaxFree = 16;
// A JS-allocated ArrayBuffer this small costs nothing; what matters is the check it runs (Nudge).
constexpr std::size_t kNudgeBytes = 1;

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
  bool closed = false;
};

void DeleteIfDone(Pool* pool) {
  if (pool->closed && pool->out == 0) delete pool;
}

// The ArrayBuffer is gone: its memory is no longer reachable from JS.
//
// V8's count of external memory is left as V8 keeps it (slab bytes from creation to sweep). Taking
// reused slabs off it and putting them back here (an earlier design) made the count dip at each
// sweep, before this runs; Node 20's soft limit follows the lowest count, so the put-backs started
// full GCs, and newer V8 aborts on a count below zero. Counted honestly, the ~8 slabs out between
// scavenges stay under the 64 MiB of growth that starts a full GC, while slabs a subscriber keeps
// still bring the full GC that returns them (docs/architecture.md, "The hot path").
void ReturnSlab(napi_env env, void* data, void* hint) {
  auto* pool = static_cast<Pool*>(hint);
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

// Lets V8 weigh the young ArrayBuffer bytes. A slab dropped before it lives through two
// scavenges dies young, and a scavenge (~0.15 ms) frees it. But V8 starts a scavenge for
// ArrayBuffer bytes only when JS allocates an ArrayBuffer (once the young ones hold 32 MiB,
// twice its largest semi-space) or when new space is full, and copy-mode receive allocates
// almost nothing else: without this, slabs waited for a full GC (~3 ms each, 40 a second at
// 1500 B) and the pool ran dry in between. With it a scavenge comes every ~7 slabs, the current
// slab lives through at most one and is not promoted, and ~8 slabs are out in steady state
// (docs/architecture.md, "The hot path").
void Nudge(napi_env env) {
  void* data = nullptr;
  napi_value ignored = nullptr;
  // A failure (an exception pending) is reported by the call that follows.
  napi_create_arraybuffer(env, kNudgeBytes, &data, &ignored);
}

Napi::Value TakeSlab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* pool = static_cast<Pool*>(info.Data());
  Nudge(env);
  if (pool->out >= kMaxOut) return env.Undefined();
  void* data = nullptr;
  if (!pool->free.empty()) {
    data = pool->free.back();
    pool->free.pop_back();
  } else {
    data = MapSlab();
    if (data == nullptr) return env.Undefined();
  }
  napi_value buffer = nullptr;
  const napi_status status =
      napi_create_external_arraybuffer(env, data, kSlabBytes, ReturnSlab, pool, &buffer);
  if (status != napi_ok) {
    // napi_no_external_buffers_allowed (a V8 sandbox) or an exception pending: keep the memory.
    pool->free.push_back(data);
    if (status == napi_pending_exception) throw env.GetAndClearPendingException();
    return env.Undefined();
  }
  pool->out++;
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
