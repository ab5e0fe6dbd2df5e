#include "queue.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "errors.h"
#include "event_fd.h"
#include "js_util.h"
#include "region.h"

namespace rxmemif {

namespace {

using ring::Descriptor;
using ring::kDescFlagNext;
using ring::kRingFlagMaskInt;

// QueueCounter in native.ts.
enum Counter : unsigned {
  kPackets = 0,
  kBytes = 1,
  kBursts = 2,
  kRingFull = 3,
  kBadRegion = 4,
  kBadBounds = 5,
  kBadLength = 6,
  kBadFlags = 7,
  kBadChain = 8,
  kBadIndex = 9,
  kTooBig = 10,
  kDescriptors = 11,
  kInterrupts = 12,
  kBadOffer = 13,
  kCounterCount = 14,
};

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
constexpr std::uint64_t kMaxU32 = 0xffffffffu;
// Region indices are u16 in descriptors.
constexpr std::uint32_t kMaxRegions = 65536;

[[noreturn]] void Invalid(Napi::Env env, const std::string& message) {
  Throw(env, EINVAL, "", message);
}

// An integer in [min, max] (max <= 2^53 - 1).
std::uint64_t ToInteger(Napi::Env env, Napi::Value value, double min, double max,
                        const std::string& what) {
  double number = NAN;
  if (value.IsNumber()) number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number || number < min || number > max) {
    char range[96];
    std::snprintf(range, sizeof range, "an integer from %.0f to %.0f", min, max);
    Invalid(env, what + " must be " + range);
  }
  return static_cast<std::uint64_t>(number);
}

std::uint64_t ArgInteger(const Napi::CallbackInfo& info, std::size_t index, double max,
                         const char* where, const char* name) {
  return ToInteger(info.Env(), info[index], 0, max, std::string(where) + ": " + name);
}

template <typename Element>
struct ArrayArg {
  Element* data;
  std::size_t length;
};

// A typed array of exactly `type` (a Buffer counts as a Uint8Array).
template <typename Element>
ArrayArg<Element> ToTypedArray(Napi::Env env, napi_value value, napi_typedarray_type type,
                               const char* type_name, const std::string& what) {
  bool is_typed_array = false;
  napi_typedarray_type actual = napi_int8_array;
  std::size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &actual, &length, &data, nullptr, nullptr) != napi_ok ||
      actual != type) {
    Invalid(env, what + " must be " + type_name);
  }
  if (length == 0) data = nullptr;
  return {static_cast<Element*>(data), length};
}

template <typename Element>
ArrayArg<Element> ArgTypedArray(const Napi::CallbackInfo& info, std::size_t index,
                                napi_typedarray_type type, const char* type_name, const char* where,
                                const char* name) {
  return ToTypedArray<Element>(info.Env(), info[index], type, type_name,
                               std::string(where) + ": " + name);
}

// The open native object of class T behind `value`, or an EINVAL error.
template <typename T>
T* ToLive(Napi::Env env, Napi::Value value, const std::string& what, const char* class_name) {
  void* raw = nullptr;
  T* object = nullptr;
  if (value.IsObject() && napi_unwrap(env, value, &raw) == napi_ok) {
    object = Registry::From(env).FindLive<T>(raw);
  }
  if (object == nullptr) Invalid(env, what + " must be an open " + class_name);
  return object;
}

Napi::Value Property(Napi::Object config, const char* name) {
  return config.Get(name);
}

std::uint64_t ConfigInteger(Napi::Object config, const char* name, double min, double max) {
  return ToInteger(config.Env(), Property(config, name), min, max,
                   std::string("Queue.create: config.") + name);
}

std::string ConfigString(Napi::Object config, const char* name) {
  Napi::Value value = Property(config, name);
  if (!value.IsString()) {
    Invalid(config.Env(), std::string("Queue.create: config.") + name + " must be a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

}  // namespace

Napi::Function Queue::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(env, "Queue",
                                 {
                                     StaticMethod<&Queue::Create>("create"),
                                     InstanceMethod<&Queue::Receive>("receive"),
                                     InstanceMethod<&Queue::Peek>("peek"),
                                     InstanceMethod<&Queue::ReleaseHeld>("release"),
                                     InstanceMethod<&Queue::Transmit>("transmit"),
                                     InstanceMethod<&Queue::Reserve>("reserve"),
                                     InstanceMethod<&Queue::Commit>("commit"),
                                     InstanceMethod<&Queue::Pending>("pending"),
                                     InstanceMethod<&Queue::SetInterruptMask>("setInterruptMask"),
                                     InstanceMethod<&Queue::Refill>("refill"),
                                     InstanceAccessor("closed", &Queue::GetClosed, nullptr),
                                     InstanceMethod<&Queue::Close>("close"),
                                 });
}

Napi::Value Queue::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) Invalid(env, "Queue.create: config must be an object");
  Napi::Object config = info[0].As<Napi::Object>();

  const std::string role = ConfigString(config, "role");
  const std::string direction = ConfigString(config, "direction");
  if (role != "client" && role != "server") {
    Invalid(env, "Queue.create: config.role must be 'client' or 'server', got '" + role + "'");
  }
  if (direction != "rx" && direction != "tx") {
    Invalid(env, "Queue.create: config.direction must be 'rx' or 'tx', got '" + direction + "'");
  }
  const bool client = role == "client";
  const Kind kind = client ? (direction == "tx" ? Kind::kClientTx : Kind::kClientRx)
                           : (direction == "tx" ? Kind::kServerTx : Kind::kServerRx);

  Napi::Value regions_value = Property(config, "regions");
  if (!regions_value.IsArray()) {
    Invalid(env, "Queue.create: config.regions must be an array of Regions");
  }
  Napi::Array regions_array = regions_value.As<Napi::Array>();
  const std::uint32_t region_count = regions_array.Length();
  if (region_count == 0 || region_count > kMaxRegions) {
    Invalid(env, "Queue.create: config.regions must hold 1 to 65536 Regions, got " +
                     std::to_string(region_count));
  }
  std::vector<Napi::Object> region_values;
  std::vector<Region*> region_objects;
  std::vector<MappedRegion> mapped;
  for (std::uint32_t i = 0; i < region_count; i++) {
    Napi::Value value = regions_array.Get(i);
    Region* region = ToLive<Region>(
        env, value, "Queue.create: config.regions[" + std::to_string(i) + "]", "Region");
    if (region->Base() == nullptr) {
      Invalid(env, "Queue.create: config.regions[" + std::to_string(i) + "] is not mapped");
    }
    region_values.push_back(value.As<Napi::Object>());
    region_objects.push_back(region);
    mapped.push_back(
        {static_cast<std::uint8_t*>(region->Base()), static_cast<std::uint64_t>(region->Size())});
  }

  const std::uint64_t ring_region = ConfigInteger(config, "ringRegion", 0, region_count - 1);
  const std::uint64_t ring_offset = ConfigInteger(config, "ringOffset", 0, kMaxSafeInteger);
  const unsigned log2 =
      static_cast<unsigned>(ConfigInteger(config, "log2RingSize", 1, ring::kMaxLog2RingSize));
  const std::uint32_t slots = 1u << log2;
  const std::uint64_t ring_end = ring_offset + ring::RingBytes(log2);
  if (ring_end > mapped[ring_region].size) {
    Invalid(env, "Queue.create: the ring (offset " + std::to_string(ring_offset) + ", " +
                     std::to_string(ring::RingBytes(log2)) + " bytes) does not fit region " +
                     std::to_string(ring_region) + " of " +
                     std::to_string(mapped[ring_region].size) + " bytes");
  }
  if (ring_offset % 2 != 0) {
    Invalid(env, "Queue.create: config.ringOffset " + std::to_string(ring_offset) +
                     " is odd; head and tail must be 2-byte aligned");
  }

  std::uint64_t buffer_size = 0;
  std::uint64_t buffer_region = 0;
  std::uint64_t buffer_base = 0;
  if (client) {
    buffer_size = ConfigInteger(config, "bufferSize", 1, 65535);
    buffer_region = ConfigInteger(config, "bufferRegion", 0, region_count - 1);
    buffer_base = ConfigInteger(config, "bufferBase", 0, kMaxSafeInteger);
    const std::uint64_t buffers_end = buffer_base + buffer_size * slots;
    if (buffers_end > mapped[buffer_region].size) {
      Invalid(env, "Queue.create: " + std::to_string(slots) + " buffers of " +
                       std::to_string(buffer_size) + " bytes from offset " +
                       std::to_string(buffer_base) + " do not fit region " +
                       std::to_string(buffer_region) + " of " +
                       std::to_string(mapped[buffer_region].size) + " bytes");
    }
    if (buffer_base + buffer_size * (slots - 1) > kMaxU32) {
      Invalid(env, "Queue.create: buffer offsets must fit in 32 bits (descriptor offsets are u32)");
    }
  }

  EventFd* event_fd =
      ToLive<EventFd>(env, Property(config, "eventFd"), "Queue.create: config.eventFd", "EventFd");
  Napi::Object event_fd_value = Property(config, "eventFd").As<Napi::Object>();
  const std::uint64_t max_packet =
      ConfigInteger(config, "maxPacketSize", 1, static_cast<double>(kMaxU32));
  auto counters = ToTypedArray<double>(env, Property(config, "counters"), napi_float64_array,
                                       "a Float64Array", "Queue.create: config.counters");
  if (counters.length < kCounterCount) {
    Invalid(env, "Queue.create: config.counters must hold at least " +
                     std::to_string(kCounterCount) + " doubles, got " +
                     std::to_string(counters.length));
  }

  Napi::Object object = NewInstance(env, Registry::From(env).queueClass);
  Queue* self = Unwrap(object);
  self->kind_ = kind;
  self->ring_ = ring::RingView(mapped[ring_region].base + ring_offset, log2);
  self->max_packet_ = max_packet;
  self->buffer_region_ = static_cast<std::uint16_t>(buffer_region);
  self->buffer_base_ = buffer_base;
  self->buffer_size_ = static_cast<std::uint32_t>(buffer_size);
  self->regions_ = std::move(mapped);
  self->region_objects_ = std::move(region_objects);
  for (Napi::Object& value : region_values) self->region_refs_.push_back(Napi::Persistent(value));
  self->event_fd_ = event_fd;
  self->event_fd_ref_ = Napi::Persistent(event_fd_value);
  self->counters_ref_ = Napi::Persistent(Property(config, "counters").As<Napi::Float64Array>());
  self->counters_ = counters.data;
  self->chain_.resize(slots);
  // Server rx: last_head starts at tail (reset to 0 on CONNECT). Client rx: last_tail = tail.
  if (self->IsRx()) self->cursor_ = self->ring_.Tail().load(std::memory_order_acquire);
  self->Register();
  return object;
}

bool Queue::Usable(napi_env env) {
  if (!IsOpen()) return false;
  for (const Region* region : region_objects_) {
    if (region->Base() == nullptr) return false;
  }
  // The counters' buffer may have been transferred (detached) or resized under us.
  napi_value counters = nullptr;
  napi_typedarray_type type = napi_int8_array;
  std::size_t length = 0;
  void* data = nullptr;
  if (napi_get_reference_value(env, counters_ref_, &counters) == napi_ok && counters != nullptr &&
      napi_get_typedarray_info(env, counters, &type, &length, &data, nullptr, nullptr) == napi_ok &&
      length >= kCounterCount && data != nullptr) {
    counters_ = static_cast<double*>(data);
  } else {
    counters_ = scratch_counters_;
  }
  // Every native call starts here.
  bad_index_noted_ = false;
  return true;
}

void Queue::RequireRx(Napi::Env env, const char* where) const {
  if (!IsRx()) Invalid(env, std::string(where) + ": this is a tx queue");
}

// --- rx ------------------------------------------------------------------------------------------

std::uint32_t Queue::RxAvailable(bool count_bad) {
  const std::uint32_t n = ring_.Size();
  std::uint16_t produced;
  std::uint32_t limit = n;
  if (kind_ == Kind::kServerRx) {
    produced = ring_.Head().load(std::memory_order_acquire);
  } else {
    produced = ring_.Tail().load(std::memory_order_acquire);
    // The server can only fill buffers we offered: [last_tail, head).
    limit = static_cast<std::uint16_t>(ring_.Head().load(std::memory_order_relaxed) - cursor_);
    if (limit > n) limit = n;
  }
  std::uint32_t available = static_cast<std::uint16_t>(produced - cursor_);
  if (available > limit) {
    if (count_bad) NoteBadIndex();
    available = limit;
  }
  return available;
}

void Queue::NoteBadIndex() {
  if (std::exchange(bad_index_noted_, true)) return;
  counters_[kBadIndex]++;
}

bool Queue::Validate(const Descriptor& d, Faults* faults) const {
  if ((d.flags & ~kDescFlagNext) != 0) {
    faults->bad_flags++;
    return false;
  }
  if (d.region >= regions_.size()) {
    faults->bad_region++;
    return false;
  }
  if (d.length == 0) {
    faults->bad_length++;
    return false;
  }
  if (static_cast<std::uint64_t>(d.offset) + d.length > regions_[d.region].size) {
    faults->bad_bounds++;
    return false;
  }
  return true;
}

std::uint32_t Queue::RxWalk(const RxOutput& out, std::uint32_t* consumed) {
  enum class Source { kNone, kInPlace, kSlab };
  const std::uint32_t available = RxAvailable(true);
  const std::uint32_t n = ring_.Size();
  std::uint32_t pos = 0;
  std::uint32_t packets = 0;
  std::uint64_t used = out.slab_offset;
  std::uint64_t bytes = 0;
  Source source = Source::kNone;
  std::uint16_t in_place_region = 0;
  Faults faults;
  double bad_chains = 0;
  double too_big = 0;

  while (packets < out.max_packets && pos < available) {
    Faults packet_faults;
    bool bad = false;
    bool complete = false;
    std::uint32_t segments = 0;
    std::uint64_t total = 0;
    while (pos + segments < available) {
      const Descriptor d = ring_.Read(cursor_ + pos + segments);
      chain_[segments++] = d;
      if (Validate(d, &packet_faults)) {
        total += d.length;
      } else {
        bad = true;
      }
      if ((d.flags & kDescFlagNext) == 0) {
        complete = true;
        break;
      }
    }
    if (!complete) {
      // NEXT on the last available slot: wait for the rest, unless the chain already fills the
      // whole ring and so can never end.
      if (pos != 0 || segments != n) break;
      bad_chains++;
      bad = true;
    }
    faults.bad_flags += packet_faults.bad_flags;
    faults.bad_region += packet_faults.bad_region;
    faults.bad_length += packet_faults.bad_length;
    faults.bad_bounds += packet_faults.bad_bounds;
    if (bad) {
      pos += segments;
      continue;
    }
    if (total > max_packet_) {
      too_big++;
      pos += segments;
      continue;
    }
    if (out.regions != nullptr && segments == 1) {
      // Zero-copy: in place, all from one region, never mixed with slab packets.
      const Descriptor& d = chain_[0];
      if (source == Source::kSlab || (source == Source::kInPlace && d.region != in_place_region)) {
        break;
      }
      source = Source::kInPlace;
      in_place_region = d.region;
      out.offsets[packets] = d.offset;
      out.lengths[packets] = d.length;
    } else {
      if (source == Source::kInPlace) break;
      if (total > out.slab_length - used) break;
      if (out.regions != nullptr) source = Source::kSlab;
      out.offsets[packets] = static_cast<std::uint32_t>(used);
      out.lengths[packets] = static_cast<std::uint32_t>(total);
      for (std::uint32_t k = 0; k < segments; k++) {
        const Descriptor& d = chain_[k];
        std::memcpy(out.slab + used, regions_[d.region].base + d.offset, d.length);
        used += d.length;
      }
    }
    bytes += total;
    packets++;
    pos += segments;
  }

  if (out.regions != nullptr) {
    out.regions[0] = source == Source::kInPlace ? static_cast<std::int32_t>(in_place_region) : -1;
  }
  double* c = counters_;
  c[kBadFlags] += faults.bad_flags;
  c[kBadRegion] += faults.bad_region;
  c[kBadLength] += faults.bad_length;
  c[kBadBounds] += faults.bad_bounds;
  c[kBadChain] += bad_chains;
  c[kTooBig] += too_big;
  c[kDescriptors] += pos;
  c[kPackets] += packets;
  c[kBytes] += static_cast<double>(bytes);
  if (packets > 0) c[kBursts]++;
  *consumed = pos;
  return packets;
}

void Queue::ReturnSlots(std::uint32_t consumed) {
  cursor_ = static_cast<std::uint16_t>(cursor_ + consumed);
  if (kind_ == Kind::kServerRx) {
    if (consumed > 0) ring_.Tail().store(cursor_, std::memory_order_release);
    return;
  }
  // A tail beyond the head we still publish means the server wrote into slots we had not offered
  // (DPDK 22.11 does, see data.spec.ts) while we were reading or holding them. Refilling first
  // would move head past that tail and hide it for good, so look now (RxAvailable counts it).
  RxAvailable(true);
  RefillSlots();
}

void Queue::RefillSlots() {
  const std::uint32_t n = ring_.Size();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  // Slots offered and not yet read back, plus those held by peek().
  const std::uint32_t outstanding = static_cast<std::uint16_t>(head - cursor_);
  if (outstanding >= n) return;
  const std::uint32_t count = n - outstanding;
  const std::uint32_t mask = ring_.Mask();
  for (std::uint32_t k = 0; k < count; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    ring_.Write(index,
                Descriptor{0, buffer_region_, buffer_size_, static_cast<std::uint32_t>(offset), 0});
  }
  ring_.Head().store(static_cast<std::uint16_t>(head + count), std::memory_order_release);
}

// The arguments receive() and peek() share: the slab, where to start in it, and the entry arrays.
static void CheckRxArgs(Napi::Env env, const char* where, std::uint64_t slab_length,
                        std::uint64_t slab_offset, std::uint64_t max_packets,
                        std::uint64_t offsets_length, std::uint64_t lengths_length) {
  const std::string w(where);
  if (slab_length > kMaxU32) Invalid(env, w + ": slab must be at most 2^32 - 1 bytes");
  if (slab_offset > slab_length) {
    Invalid(env, w + ": slabOffset " + std::to_string(slab_offset) + " is beyond the slab (" +
                     std::to_string(slab_length) + " bytes)");
  }
  if (max_packets > offsets_length || max_packets > lengths_length) {
    Invalid(env, w + ": maxPackets " + std::to_string(max_packets) + " exceeds offsets/lengths (" +
                     std::to_string(offsets_length) + "/" + std::to_string(lengths_length) +
                     " entries)");
  }
}

Napi::Value Queue::Receive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.receive";
  RequireRx(env, kWhere);
  auto slab =
      ArgTypedArray<std::uint8_t>(info, 0, napi_uint8_array, "a Uint8Array", kWhere, "slab");
  const std::uint64_t slab_offset = ArgInteger(info, 1, kMaxSafeInteger, kWhere, "slabOffset");
  auto offsets =
      ArgTypedArray<std::uint32_t>(info, 2, napi_uint32_array, "a Uint32Array", kWhere, "offsets");
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 3, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t max_packets = ArgInteger(info, 4, kMaxSafeInteger, kWhere, "maxPackets");
  CheckRxArgs(env, kWhere, slab.length, slab_offset, max_packets, offsets.length, lengths.length);
  if (!Usable(env)) return Napi::Number::New(env, 0);
  if (held_ > 0) ReturnSlots(std::exchange(held_, 0));
  std::uint32_t consumed = 0;
  const std::uint32_t packets =
      RxWalk(RxOutput{slab.data, slab.length, slab_offset, offsets.data, lengths.data, nullptr,
                      static_cast<std::uint32_t>(std::min<std::uint64_t>(max_packets, kMaxU32))},
             &consumed);
  ReturnSlots(consumed);
  return Napi::Number::New(env, packets);
}

Napi::Value Queue::Peek(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.peek";
  RequireRx(env, kWhere);
  auto slab =
      ArgTypedArray<std::uint8_t>(info, 0, napi_uint8_array, "a Uint8Array", kWhere, "slab");
  const std::uint64_t slab_offset = ArgInteger(info, 1, kMaxSafeInteger, kWhere, "slabOffset");
  auto regions =
      ArgTypedArray<std::int32_t>(info, 2, napi_int32_array, "an Int32Array", kWhere, "regions");
  auto offsets =
      ArgTypedArray<std::uint32_t>(info, 3, napi_uint32_array, "a Uint32Array", kWhere, "offsets");
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 4, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t max_packets = ArgInteger(info, 5, kMaxSafeInteger, kWhere, "maxPackets");
  CheckRxArgs(env, kWhere, slab.length, slab_offset, max_packets, offsets.length, lengths.length);
  if (regions.length < 1) Invalid(env, "Queue.peek: regions must hold at least 1 entry");
  if (!Usable(env)) return Napi::Number::New(env, 0);
  // A peek without release: the previous packets are done with.
  if (held_ > 0) ReturnSlots(std::exchange(held_, 0));
  std::uint32_t consumed = 0;
  const std::uint32_t packets =
      RxWalk(RxOutput{slab.data, slab.length, slab_offset, offsets.data, lengths.data, regions.data,
                      static_cast<std::uint32_t>(std::min<std::uint64_t>(max_packets, kMaxU32))},
             &consumed);
  if (packets == 0) {
    // Only dropped descriptors (if any): nothing for the caller to release.
    ReturnSlots(consumed);
  } else {
    held_ = consumed;
  }
  return Napi::Number::New(env, packets);
}

void Queue::ReleaseHeld(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRx(env, "Queue.release");
  if (!Usable(env)) return;
  ReturnSlots(std::exchange(held_, 0));
}

void Queue::Refill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (kind_ != Kind::kClientRx) Invalid(env, "Queue.refill: only a client rx queue refills");
  if (!Usable(env)) return;
  RefillSlots();
}

Napi::Value Queue::SetInterruptMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRx(env, "Queue.setInterruptMask");
  if (!info[0].IsBoolean()) Invalid(env, "Queue.setInterruptMask: masked must be a boolean");
  const bool masked = info[0].As<Napi::Boolean>().Value();
  if (!Usable(env)) return Napi::Number::New(env, 0);
  // Only the receiver writes the ring flags.
  std::atomic_ref<std::uint16_t> flags = ring_.Flags();
  const std::uint16_t old = flags.load(std::memory_order_relaxed);
  const std::uint16_t value = masked ? static_cast<std::uint16_t>(old | kRingFlagMaskInt)
                                     : static_cast<std::uint16_t>(old & ~kRingFlagMaskInt);
  flags.store(value, std::memory_order_relaxed);
  // Pairs with the producer's fence between publishing and reading the flags: either it sees
  // the flag clear and signals, or we see its packets below.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint32_t available = RxAvailable(false);
  return Napi::Number::New(env, available > held_ ? available - held_ : 0);
}

// --- tx ------------------------------------------------------------------------------------------

std::uint32_t Queue::TxRoom(bool count_bad) {
  const std::uint32_t n = ring_.Size();
  if (kind_ == Kind::kClientTx) {
    // Free = N - (head - tail); a tail beyond head (or further back than N) leaves no room.
    const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
    const std::uint16_t tail = ring_.Tail().load(std::memory_order_acquire);
    const std::uint32_t in_flight = static_cast<std::uint16_t>(head - tail);
    if (in_flight > n) {
      if (count_bad) NoteBadIndex();
      return 0;
    }
    return n - in_flight;
  }
  // Server: the client's offered buffers [tail, head).
  const std::uint16_t tail = ring_.Tail().load(std::memory_order_relaxed);
  const std::uint16_t head = ring_.Head().load(std::memory_order_acquire);
  const std::uint32_t offered = static_cast<std::uint16_t>(head - tail);
  if (offered > n) {
    if (count_bad) NoteBadIndex();
    return n;
  }
  return offered;
}

void Queue::Signal() {
  // Publication (release store) before reading the receiver's flag; pairs with the fence in
  // setInterruptMask.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if ((ring_.Flags().load(std::memory_order_acquire) & kRingFlagMaskInt) != 0) return;
  const int fd = event_fd_ != nullptr ? event_fd_->Fd() : -1;
  if (fd < 0) return;
  const std::uint64_t one = 1;
  ssize_t written;
  do {
    written = ::write(fd, &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // EAGAIN: the counter is saturated, the receiver is woken anyway.
  if (written == sizeof one || (written < 0 && errno == EAGAIN)) counters_[kInterrupts]++;
}

std::uint32_t Queue::TransmitClient(const std::uint8_t* data, const std::uint32_t* offsets,
                                    const std::uint32_t* lengths, std::uint32_t count) {
  const std::uint32_t n = ring_.Size();
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  const std::uint32_t room = TxRoom(true);
  const MappedRegion& buffers = regions_[buffer_region_];
  double* c = counters_;
  std::uint32_t used = 0;
  std::uint32_t handled = 0;
  std::uint32_t sent = 0;
  std::uint64_t bytes = 0;
  for (; handled < count; handled++) {
    const std::uint32_t length = lengths[handled];
    const std::uint64_t needed = (std::uint64_t{length} + buffer_size_ - 1) / buffer_size_;
    if (needed > n) {
      // Larger than the whole ring: it can never be sent, so it must not block the rest.
      c[kTooBig]++;
      continue;
    }
    if (needed > room - used) {
      c[kRingFull] += count - handled;
      break;
    }
    const std::uint8_t* source = data + offsets[handled];
    std::uint32_t remaining = length;
    bool fits = true;
    for (std::uint32_t k = 0; k < needed; k++) {
      const std::uint32_t index = static_cast<std::uint16_t>(head + used + k);
      const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
      if (offset + buffer_size_ > buffers.size || offset > kMaxU32) {
        fits = false;
        break;
      }
      const std::uint32_t segment = std::min(remaining, buffer_size_);
      // memmove: the source may be shared memory too (a zero-copy rx view reflected straight
      // back, see TxPort.pushBurst), which a peer can make overlap this buffer.
      std::memmove(buffers.base + offset, source, segment);
      source += segment;
      remaining -= segment;
      // Rewritten whole every time: a peer may have scribbled on region/offset.
      ring_.Write(index,
                  Descriptor{static_cast<std::uint16_t>(remaining > 0 ? kDescFlagNext : 0),
                             buffer_region_, segment, static_cast<std::uint32_t>(offset), 0});
    }
    if (!fits) {
      c[kBadBounds]++;
      break;
    }
    used += static_cast<std::uint32_t>(needed);
    bytes += length;
    sent++;
  }
  if (used > 0) {
    ring_.Head().store(static_cast<std::uint16_t>(head + used), std::memory_order_release);
  }
  c[kPackets] += sent;
  c[kBytes] += static_cast<double>(bytes);
  if (sent > 0) {
    c[kBursts]++;
    Signal();
  }
  return handled;
}

std::uint32_t Queue::TransmitServer(const std::uint8_t* data, const std::uint32_t* offsets,
                                    const std::uint32_t* lengths, std::uint32_t count) {
  const std::uint32_t n = ring_.Size();
  const std::uint16_t tail = ring_.Tail().load(std::memory_order_relaxed);
  const std::uint32_t offered = TxRoom(true);
  double* c = counters_;
  std::uint32_t used = 0;
  std::uint32_t handled = 0;
  std::uint32_t sent = 0;
  std::uint64_t bytes = 0;
  bool stop = false;
  for (; handled < count; handled++) {
    const std::uint32_t length = lengths[handled];
    const std::uint8_t* source = data + offsets[handled];
    std::uint32_t remaining = length;
    std::uint32_t k = 0;
    bool room = true;
    while (remaining > 0) {
      if (used + k >= offered) {
        room = false;
        break;
      }
      const std::uint32_t index = static_cast<std::uint16_t>(tail + used + k);
      // Capacity, region and offset as the client offered them; never written back.
      const Descriptor d = ring_.Read(index);
      if (d.region >= regions_.size() || d.length == 0 ||
          static_cast<std::uint64_t>(d.offset) + d.length > regions_[d.region].size) {
        // Left in place: the client owns it; what was sent so far is published.
        c[kBadOffer]++;
        stop = true;
        break;
      }
      const std::uint32_t segment = std::min(remaining, d.length);
      // memmove: the client may offer a buffer overlapping the source (a zero-copy rx view
      // reflected straight back lies in the same regions).
      std::memmove(regions_[d.region].base + d.offset, source, segment);
      source += segment;
      remaining -= segment;
      k++;
      ring_.WriteLengthAndFlags(index, segment,
                                static_cast<std::uint16_t>(remaining > 0 ? kDescFlagNext : 0));
    }
    if (stop) break;
    if (!room) {
      if (used == 0 && offered == n) {
        // Does not fit even in a whole ring of the client's buffers.
        c[kTooBig]++;
        continue;
      }
      c[kRingFull] += count - handled;
      break;
    }
    used += k;
    bytes += length;
    sent++;
  }
  if (used > 0) {
    ring_.Tail().store(static_cast<std::uint16_t>(tail + used), std::memory_order_release);
  }
  c[kPackets] += sent;
  c[kBytes] += static_cast<double>(bytes);
  if (sent > 0) {
    c[kBursts]++;
    Signal();
  }
  return handled;
}

Napi::Value Queue::Transmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.transmit";
  if (IsRx()) Invalid(env, "Queue.transmit: this is an rx queue");
  auto data =
      ArgTypedArray<std::uint8_t>(info, 0, napi_uint8_array, "a Uint8Array", kWhere, "data");
  auto offsets =
      ArgTypedArray<std::uint32_t>(info, 1, napi_uint32_array, "a Uint32Array", kWhere, "offsets");
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 2, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t count = ArgInteger(info, 3, kMaxSafeInteger, kWhere, "count");
  if (count > offsets.length || count > lengths.length) {
    Invalid(env, "Queue.transmit: count " + std::to_string(count) + " exceeds offsets/lengths (" +
                     std::to_string(offsets.length) + "/" + std::to_string(lengths.length) +
                     " entries)");
  }
  for (std::uint64_t i = 0; i < count; i++) {
    if (lengths.data[i] == 0) {
      Invalid(env, "Queue.transmit: packet " + std::to_string(i) +
                       " is empty (memif has no zero-length packets)");
    }
    if (std::uint64_t{offsets.data[i]} + lengths.data[i] > data.length) {
      Invalid(env, "Queue.transmit: packet " + std::to_string(i) + " (offset " +
                       std::to_string(offsets.data[i]) + ", " + std::to_string(lengths.data[i]) +
                       " bytes) lies beyond data (" + std::to_string(data.length) + " bytes)");
    }
  }
  if (!Usable(env) || count == 0) return Napi::Number::New(env, 0);
  // transmit() fills the slots from head: a reservation made before would now name sent ones.
  reserved_ = 0;
  const std::uint32_t n32 = static_cast<std::uint32_t>(count);
  const std::uint32_t handled = kind_ == Kind::kClientTx
                                    ? TransmitClient(data.data, offsets.data, lengths.data, n32)
                                    : TransmitServer(data.data, offsets.data, lengths.data, n32);
  return Napi::Number::New(env, handled);
}

// --- client tx, zero-copy ------------------------------------------------------------------------

Napi::Value Queue::Reserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.reserve";
  if (kind_ != Kind::kClientTx) Invalid(env, "Queue.reserve: only a client tx queue reserves");
  auto offsets =
      ArgTypedArray<std::uint32_t>(info, 0, napi_uint32_array, "a Uint32Array", kWhere, "offsets");
  auto capacities = ArgTypedArray<std::uint32_t>(info, 1, napi_uint32_array, "a Uint32Array",
                                                 kWhere, "capacities");
  const std::uint64_t max = ArgInteger(info, 2, kMaxSafeInteger, kWhere, "max");
  if (max > offsets.length || max > capacities.length) {
    Invalid(env, "Queue.reserve: max " + std::to_string(max) + " exceeds offsets/capacities (" +
                     std::to_string(offsets.length) + "/" + std::to_string(capacities.length) +
                     " entries)");
  }
  if (!Usable(env)) return Napi::Number::New(env, 0);
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  const std::uint32_t room = TxRoom(true);
  const std::uint32_t wanted = static_cast<std::uint32_t>(std::min<std::uint64_t>(max, room));
  const MappedRegion& buffers = regions_[buffer_region_];
  std::uint32_t k = 0;
  for (; k < wanted; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    // Checked at create; kept so that no slot beyond the mapping is ever handed out.
    if (offset + buffer_size_ > buffers.size || offset > kMaxU32) {
      counters_[kBadBounds]++;
      break;
    }
    offsets.data[k] = static_cast<std::uint32_t>(offset);
    capacities.data[k] = buffer_size_;
  }
  // The same slots again until commit: head has not moved.
  reserved_ = k;
  return Napi::Number::New(env, k);
}

Napi::Value Queue::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.commit";
  if (kind_ != Kind::kClientTx) Invalid(env, "Queue.commit: only a client tx queue commits");
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 0, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t count = ArgInteger(info, 1, kMaxSafeInteger, kWhere, "count");
  if (count > lengths.length) {
    Invalid(env, "Queue.commit: count " + std::to_string(count) + " exceeds lengths (" +
                     std::to_string(lengths.length) + " entries)");
  }
  if (!Usable(env)) return Napi::Number::New(env, 0);
  if (count > reserved_) {
    Invalid(env,
            "Queue.commit: count " + std::to_string(count) + " exceeds the " +
                std::to_string(reserved_) +
                " slots reserved (reserve() first; transmit() or commit() ends a reservation)");
  }
  for (std::uint64_t i = 0; i < count; i++) {
    if (lengths.data[i] == 0 || lengths.data[i] > buffer_size_) {
      Invalid(env, "Queue.commit: length " + std::to_string(lengths.data[i]) + " of slot " +
                       std::to_string(i) + " is not in 1.." + std::to_string(buffer_size_) +
                       " (the slot's capacity)");
    }
  }
  if (count == 0) return Napi::Number::New(env, 0);
  const std::uint32_t mask = ring_.Mask();
  const std::uint16_t head = ring_.Head().load(std::memory_order_relaxed);
  // Only a peer moving tail wrongly shrinks the room reserved earlier (counted as badIndex).
  const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(count, TxRoom(true)));
  std::uint64_t bytes = 0;
  for (std::uint32_t k = 0; k < n; k++) {
    const std::uint32_t index = static_cast<std::uint16_t>(head + k);
    const std::uint64_t offset = buffer_base_ + std::uint64_t{index & mask} * buffer_size_;
    // Rewritten whole: a peer may have scribbled on region/offset.
    ring_.Write(index, Descriptor{0, buffer_region_, lengths.data[k],
                                  static_cast<std::uint32_t>(offset), 0});
    bytes += lengths.data[k];
  }
  reserved_ = 0;
  double* c = counters_;
  if (n < count) c[kRingFull] += static_cast<double>(count - n);
  if (n == 0) return Napi::Number::New(env, 0);
  ring_.Head().store(static_cast<std::uint16_t>(head + n), std::memory_order_release);
  c[kPackets] += n;
  c[kBytes] += static_cast<double>(bytes);
  c[kBursts]++;
  Signal();
  return Napi::Number::New(env, n);
}

// --- both ----------------------------------------------------------------------------------------

Napi::Value Queue::Pending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable(env)) return Napi::Number::New(env, 0);
  if (IsRx()) {
    const std::uint32_t available = RxAvailable(false);
    return Napi::Number::New(env, available > held_ ? available - held_ : 0);
  }
  return Napi::Number::New(env, TxRoom(false));
}

void Queue::Close(const Napi::CallbackInfo&) {
  Release();
}

void Queue::Finalize(Napi::Env) {
  Release();
}

void Queue::CloseForTeardown() noexcept {
  Release();
}

void Queue::Release() noexcept {
  // Everything idempotent: also runs for an object whose create() failed half-way.
  Unregister();
  for (Napi::ObjectReference& reference : region_refs_) ResetQuietly(reference);
  ResetQuietly(event_fd_ref_);
  ResetQuietly(counters_ref_);
  region_refs_.clear();
  region_objects_.clear();
  regions_.clear();
  event_fd_ = nullptr;
  counters_ = nullptr;
  held_ = 0;
  reserved_ = 0;
  ring_ = ring::RingView();
  chain_.clear();
  chain_.shrink_to_fit();
}

}  // namespace rxmemif
