#pragma once

// The memif ring in shared memory (docs/protocol.md#ring-header,
// docs/protocol.md#descriptor, docs/protocol.md#memory-ordering): header fields, descriptors,
// and the only ways this addon touches them.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

// Must agree with the peer (docs/protocol.md#cache-line-size). addon.cc exports it as
// `cacheLineSize`; a -DRX_MEMIF_CACHELINE build flag overrides the default.
#ifndef RX_MEMIF_CACHELINE
#if defined(__aarch64__)
#define RX_MEMIF_CACHELINE 128
#else
#define RX_MEMIF_CACHELINE 64
#endif
#endif

namespace rxmemif::ring {

constexpr std::uint64_t kCacheLine = RX_MEMIF_CACHELINE;
constexpr std::uint64_t kFlagsOffset = 4;
constexpr std::uint64_t kHeadOffset = 6;
// head and tail on different cache lines; descriptors after two lines.
constexpr std::uint64_t kTailOffset = kCacheLine;
constexpr std::uint64_t kDescriptorsOffset = 2 * kCacheLine;
constexpr std::uint64_t kDescriptorSize = 16;
constexpr unsigned kMaxLog2RingSize = 14;

constexpr std::uint16_t kDescFlagNext = 1;
constexpr std::uint16_t kRingFlagMaskInt = 1;

// Wire layout of one descriptor (host-endian, packed, 16 bytes).
struct Descriptor {
  std::uint16_t flags;
  std::uint16_t region;
  std::uint32_t length;
  std::uint32_t offset;
  std::uint32_t metadata;
};
static_assert(sizeof(Descriptor) == kDescriptorSize);
static_assert(offsetof(Descriptor, flags) == 0 && offsetof(Descriptor, region) == 2 &&
              offsetof(Descriptor, length) == 4 && offsetof(Descriptor, offset) == 8 &&
              offsetof(Descriptor, metadata) == 12);
static_assert(std::atomic_ref<std::uint16_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint16_t>::required_alignment <= 2);

// A ring header at a (2-byte aligned) address inside a live mapping. Indices are free-running u16.
class RingView {
 public:
  RingView() = default;
  RingView(std::uint8_t* header, unsigned log2_size)
      : header_(header), size_(1u << log2_size), mask_((1u << log2_size) - 1) {}

  std::uint32_t Size() const { return size_; }
  std::uint32_t Mask() const { return mask_; }

  std::atomic_ref<std::uint16_t> Flags() const { return Field(kFlagsOffset); }
  std::atomic_ref<std::uint16_t> Head() const { return Field(kHeadOffset); }
  std::atomic_ref<std::uint16_t> Tail() const { return Field(kTailOffset); }

  std::uint8_t* DescriptorAt(std::uint32_t index) const {
    return header_ + kDescriptorsOffset + kDescriptorSize * (index & mask_);
  }

  // One copy of a descriptor the peer may be rewriting: the compiler barrier keeps it from
  // fetching a field from shared memory again after it was validated.
  Descriptor Read(std::uint32_t index) const {
    Descriptor d;
    std::memcpy(&d, DescriptorAt(index), sizeof d);
    asm volatile("" ::: "memory");
    return d;
  }

  void Write(std::uint32_t index, const Descriptor& d) const {
    std::memcpy(DescriptorAt(index), &d, sizeof d);
  }

  // Server TX: only length and flags; region/offset stay the client's.
  void WriteLengthAndFlags(std::uint32_t index, std::uint32_t length, std::uint16_t flags) const {
    std::uint8_t* d = DescriptorAt(index);
    std::memcpy(d + offsetof(Descriptor, length), &length, sizeof length);
    std::memcpy(d + offsetof(Descriptor, flags), &flags, sizeof flags);
  }

 private:
  std::atomic_ref<std::uint16_t> Field(std::uint64_t offset) const {
    return std::atomic_ref<std::uint16_t>(*reinterpret_cast<std::uint16_t*>(header_ + offset));
  }

  std::uint8_t* header_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t mask_ = 0;
};

// Bytes a ring takes: header plus descriptors.
constexpr std::uint64_t RingBytes(unsigned log2_size) {
  return kDescriptorsOffset + kDescriptorSize * (std::uint64_t{1} << log2_size);
}

}  // namespace rxmemif::ring
