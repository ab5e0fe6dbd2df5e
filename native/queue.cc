#include "queue.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "errors.h"
#include "event_fd.h"
#include "js_util.h"
#include "region.h"

namespace rxmemif {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1
// Region indices are u16 in descriptors.
constexpr std::uint32_t kMaxRegions = 65536;

[[noreturn]] void Invalid(Napi::Env env, const std::string& message) {
  Throw(env, EINVAL, "", message);
}

// What an argument is called in an error message, put together only when there is an error:
// building it for every argument of every call cost a few heap allocations per native call on
// the hot path (docs/tuning.md, "Per-packet tx").
struct What {
  const char* where;
  const char* separator;
  const char* name;
  std::string Text() const { return std::string(where) + separator + name; }
};

// An integer in [min, max] (max <= 2^53 - 1).
std::uint64_t ToInteger(Napi::Env env, Napi::Value value, double min, double max,
                        const What& what) {
  double number = NAN;
  if (value.IsNumber()) number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number || number < min || number > max) {
    char range[96];
    std::snprintf(range, sizeof range, "an integer from %.0f to %.0f", min, max);
    Invalid(env, what.Text() + " must be " + range);
  }
  return static_cast<std::uint64_t>(number);
}

std::uint64_t ArgInteger(const Napi::CallbackInfo& info, std::size_t index, double max,
                         const char* where, const char* name) {
  return ToInteger(info.Env(), info[index], 0, max, What{where, ": ", name});
}

template <typename Element>
struct ArrayArg {
  Element* data;
  std::size_t length;
};

// A typed array of exactly `type` (a Buffer counts as a Uint8Array).
template <typename Element>
ArrayArg<Element> ToTypedArray(Napi::Env env, napi_value value, napi_typedarray_type type,
                               const char* type_name, const What& what) {
  bool is_typed_array = false;
  napi_typedarray_type actual = napi_int8_array;
  std::size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &actual, &length, &data, nullptr, nullptr) != napi_ok ||
      actual != type) {
    Invalid(env, what.Text() + " must be " + type_name);
  }
  if (length == 0) data = nullptr;
  return {static_cast<Element*>(data), length};
}

template <typename Element>
ArrayArg<Element> ArgTypedArray(const Napi::CallbackInfo& info, std::size_t index,
                                napi_typedarray_type type, const char* type_name, const char* where,
                                const char* name) {
  return ToTypedArray<Element>(info.Env(), info[index], type, type_name, What{where, ": ", name});
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
                   What{"Queue.create: config.", "", name});
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
                                     InstanceMethod<&Queue::TransmitViews>("transmitViews"),
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
  using Kind = RingQueue::Kind;
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
  auto counters =
      ToTypedArray<double>(env, Property(config, "counters"), napi_float64_array, "a Float64Array",
                           What{"Queue.create: config.counters", "", ""});
  if (counters.length < kCounterCount) {
    Invalid(env, "Queue.create: config.counters must hold at least " +
                     std::to_string(kCounterCount) + " doubles, got " +
                     std::to_string(counters.length));
  }

  const Napi::Value resume_value = Property(config, "resume");
  if (!resume_value.IsUndefined() && !resume_value.IsBoolean()) {
    Invalid(env, "Queue.create: config.resume must be a boolean");
  }
  const bool resume = resume_value.IsBoolean() && resume_value.As<Napi::Boolean>().Value();

  Napi::Object object = NewInstance(env, Registry::From(env).queueClass);
  Queue* self = Unwrap(object);
  const ring::RingView ring(mapped[ring_region].base + ring_offset, log2);
  self->core_.Open(RingQueue::Config{kind, ring, std::move(mapped), max_packet,
                                     static_cast<std::uint16_t>(buffer_region), buffer_base,
                                     static_cast<std::uint32_t>(buffer_size), resume});
  self->region_objects_ = std::move(region_objects);
  for (Napi::Object& value : region_values) self->region_refs_.push_back(Napi::Persistent(value));
  self->event_fd_ = event_fd;
  self->event_fd_ref_ = Napi::Persistent(event_fd_value);
  self->counters_ref_ = Napi::Persistent(Property(config, "counters").As<Napi::Float64Array>());
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
    core_.BeginCall(static_cast<double*>(data));
  } else {
    core_.BeginCall(scratch_counters_);
  }
  return true;
}

void Queue::RequireRx(Napi::Env env, const char* where) const {
  if (!core_.IsRx()) Invalid(env, std::string(where) + ": this is a tx queue");
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
  const std::uint32_t packets = core_.Receive(
      RxOutput{slab.data, slab.length, slab_offset, offsets.data, lengths.data, nullptr,
               static_cast<std::uint32_t>(std::min<std::uint64_t>(max_packets, kMaxU32))});
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
  const std::uint32_t packets = core_.Peek(
      RxOutput{slab.data, slab.length, slab_offset, offsets.data, lengths.data, regions.data,
               static_cast<std::uint32_t>(std::min<std::uint64_t>(max_packets, kMaxU32))});
  return Napi::Number::New(env, packets);
}

void Queue::ReleaseHeld(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRx(env, "Queue.release");
  if (!Usable(env)) return;
  core_.ReleaseHeld();
}

void Queue::Refill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (core_.GetKind() != RingQueue::Kind::kClientRx) {
    Invalid(env, "Queue.refill: only a client rx queue refills");
  }
  if (!Usable(env)) return;
  core_.RefillSlots();
}

Napi::Value Queue::SetInterruptMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireRx(env, "Queue.setInterruptMask");
  if (!info[0].IsBoolean()) Invalid(env, "Queue.setInterruptMask: masked must be a boolean");
  const bool masked = info[0].As<Napi::Boolean>().Value();
  if (!Usable(env)) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, core_.SetInterruptMask(masked));
}

Napi::Value Queue::Transmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.transmit";
  if (core_.IsRx()) Invalid(env, "Queue.transmit: this is an rx queue");
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
  const std::uint8_t* base = data.data;
  const std::uint32_t handled = core_.Transmit(
      TxSource{&base, nullptr, offsets.data, lengths.data, static_cast<std::uint32_t>(count)},
      EventFdNumber());
  return Napi::Number::New(env, handled);
}

// One native call for packets that are views into several buffers (TxPort.flush: a burst's
// packets sent one by one, packets of a pool, plain Uint8Arrays): packet i lies in the buffer
// behind views[viewOf[i]] at byte offset offsets[i] of that buffer (not of the view), so one view
// stands for every packet of its buffer and nothing is staged (docs/architecture.md, "The hot
// path"). A view over a SharedArrayBuffer only stands for its own bytes.
Napi::Value Queue::TransmitViews(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.transmitViews";
  if (core_.IsRx()) Invalid(env, "Queue.transmitViews: this is an rx queue");
  if (!info[0].IsArray())
    Invalid(env, "Queue.transmitViews: views must be an array of Uint8Arrays");
  Napi::Array views = info[0].As<Napi::Array>();
  const std::uint64_t view_count =
      ArgInteger(info, 1, static_cast<double>(views.Length()), kWhere, "viewCount");
  auto view_of =
      ArgTypedArray<std::uint32_t>(info, 2, napi_uint32_array, "a Uint32Array", kWhere, "viewOf");
  auto offsets =
      ArgTypedArray<std::uint32_t>(info, 3, napi_uint32_array, "a Uint32Array", kWhere, "offsets");
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 4, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t count = ArgInteger(info, 5, kMaxSafeInteger, kWhere, "count");
  if (count > view_of.length || count > offsets.length || count > lengths.length) {
    Invalid(env, "Queue.transmitViews: count " + std::to_string(count) +
                     " exceeds viewOf/offsets/lengths (" + std::to_string(view_of.length) + "/" +
                     std::to_string(offsets.length) + "/" + std::to_string(lengths.length) +
                     " entries)");
  }
  view_bases_.resize(view_count);
  view_extents_.resize(view_count);
  for (std::uint32_t v = 0; v < view_count; v++) {
    napi_value view = views.Get(v);
    napi_typedarray_type type = napi_int8_array;
    std::size_t length = 0;
    void* data = nullptr;
    napi_value buffer = nullptr;
    std::size_t byte_offset = 0;
    bool is_typed_array = false;
    if (napi_is_typedarray(env, view, &is_typed_array) != napi_ok || !is_typed_array ||
        napi_get_typedarray_info(env, view, &type, &length, &data, &buffer, &byte_offset) !=
            napi_ok ||
        type != napi_uint8_array) {
      // The message is built only here: a string per view and call was the tx path's one heap
      // allocation (docs/tuning.md, "Per-packet tx").
      Invalid(env, "Queue.transmitViews: views[" + std::to_string(v) + "] must be a Uint8Array");
    }
    void* buffer_data = nullptr;
    std::size_t buffer_length = 0;
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    if (napi_get_arraybuffer_info(env, buffer, &buffer_data, &buffer_length) == napi_ok) {
      view_bases_[v] = static_cast<const std::uint8_t*>(buffer_data);
      view_extents_[v] = {0, buffer_length};
    } else {
      // A SharedArrayBuffer (no arraybuffer info): only the view's own bytes.
      view_bases_[v] = bytes == nullptr ? nullptr : bytes - byte_offset;
      view_extents_[v] = {byte_offset, byte_offset + length};
    }
  }
  for (std::uint64_t i = 0; i < count; i++) {
    if (view_of.data[i] >= view_count) {
      Invalid(env, "Queue.transmitViews: viewOf[" + std::to_string(i) + "] " +
                       std::to_string(view_of.data[i]) + " is not below viewCount " +
                       std::to_string(view_count));
    }
    if (lengths.data[i] == 0) {
      Invalid(env, "Queue.transmitViews: packet " + std::to_string(i) +
                       " is empty (memif has no zero-length packets)");
    }
    const Extent& extent = view_extents_[view_of.data[i]];
    if (offsets.data[i] < extent.begin ||
        std::uint64_t{offsets.data[i]} + lengths.data[i] > extent.end) {
      Invalid(env, "Queue.transmitViews: packet " + std::to_string(i) + " (offset " +
                       std::to_string(offsets.data[i]) + ", " + std::to_string(lengths.data[i]) +
                       " bytes) lies outside the buffer of views[" +
                       std::to_string(view_of.data[i]) + "]");
    }
  }
  if (!Usable(env) || count == 0) return Napi::Number::New(env, 0);
  const std::uint32_t handled =
      core_.Transmit(TxSource{view_bases_.data(), view_of.data, offsets.data, lengths.data,
                              static_cast<std::uint32_t>(count)},
                     EventFdNumber());
  return Napi::Number::New(env, handled);
}

// --- client tx, zero-copy ------------------------------------------------------------------------

Napi::Value Queue::Reserve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.reserve";
  if (core_.GetKind() != RingQueue::Kind::kClientTx) {
    Invalid(env, "Queue.reserve: only a client tx queue reserves");
  }
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
  const std::uint32_t k =
      core_.Reserve(offsets.data, capacities.data,
                    static_cast<std::uint32_t>(std::min<std::uint64_t>(max, kMaxU32)));
  return Napi::Number::New(env, k);
}

Napi::Value Queue::Commit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  constexpr const char* kWhere = "Queue.commit";
  if (core_.GetKind() != RingQueue::Kind::kClientTx) {
    Invalid(env, "Queue.commit: only a client tx queue commits");
  }
  auto lengths =
      ArgTypedArray<std::uint32_t>(info, 0, napi_uint32_array, "a Uint32Array", kWhere, "lengths");
  const std::uint64_t count = ArgInteger(info, 1, kMaxSafeInteger, kWhere, "count");
  if (count > lengths.length) {
    Invalid(env, "Queue.commit: count " + std::to_string(count) + " exceeds lengths (" +
                     std::to_string(lengths.length) + " entries)");
  }
  if (!Usable(env)) return Napi::Number::New(env, 0);
  if (count > core_.Reserved()) {
    Invalid(env,
            "Queue.commit: count " + std::to_string(count) + " exceeds the " +
                std::to_string(core_.Reserved()) +
                " slots reserved (reserve() first; transmit() or commit() ends a reservation)");
  }
  for (std::uint64_t i = 0; i < count; i++) {
    if (lengths.data[i] == 0 || lengths.data[i] > core_.BufferSize()) {
      Invalid(env, "Queue.commit: length " + std::to_string(lengths.data[i]) + " of slot " +
                       std::to_string(i) + " is not in 1.." + std::to_string(core_.BufferSize()) +
                       " (the slot's capacity)");
    }
  }
  const std::uint32_t n =
      core_.Commit(lengths.data, static_cast<std::uint32_t>(count), EventFdNumber());
  return Napi::Number::New(env, n);
}

// --- both ----------------------------------------------------------------------------------------

Napi::Value Queue::Pending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!Usable(env)) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, core_.Pending());
}

int Queue::EventFdNumber() const {
  return event_fd_ != nullptr ? event_fd_->Fd() : -1;
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
  event_fd_ = nullptr;
  core_.Reset();
}

}  // namespace rxmemif
