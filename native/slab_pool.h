#pragma once

#include <napi.h>

namespace rxmemif {

// Receive memory that is reused (docs/architecture.md, "The hot path"): `takeSlab()` hands out
// a slab of a fixed size as an external ArrayBuffer; once no JS view of it is reachable, its
// finalizer (on the JS thread, after a GC) returns the memory to a per-environment free list, so
// copy-mode receive stops touching fresh memory in steady state. The free list is bounded and is
// freed at environment teardown; slabs still out then are freed by their own finalizers.
//
// Each call also lets V8 start a scavenge when young ArrayBuffers hold enough bytes, so that
// slabs dropped young come back without waiting for a full GC (see Nudge in slab_pool.cc).
//
// Returns undefined where external buffers are not allowed, or while 32 slabs are out (the caller
// allocates in JS instead).
Napi::Function DefineTakeSlab(Napi::Env env);

}  // namespace rxmemif
