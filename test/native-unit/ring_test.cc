// Unit test of the ring work (native/ring_queue.cc) without Node: two RingQueues share a ring in
// ordinary memory, one producing and one consuming, as a client and a server would over a memif
// region (docs/protocol.md). Built with ASan/UBSan and run by scripts/test-ring-unit.js.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../native/ring_queue.h"

namespace {

int failures = 0;
int checks = 0;
const char* current = "";

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    checks++;                                                                            \
    if (!(cond)) {                                                                       \
      failures++;                                                                        \
      std::fprintf(stderr, "FAIL [%s] %s:%d: %s\n", current, __FILE__, __LINE__, #cond); \
    }                                                                                    \
  } while (0)

#define CHECK_EQ(a, b)                                                                      \
  do {                                                                                      \
    checks++;                                                                               \
    const double va = static_cast<double>(a), vb = static_cast<double>(b);                  \
    if (va != vb) {                                                                         \
      failures++;                                                                           \
      std::fprintf(stderr, "FAIL [%s] %s:%d: %s == %s (%.0f vs %.0f)\n", current, __FILE__, \
                   __LINE__, #a, #b, va, vb);                                               \
    }                                                                                       \
  } while (0)

using rxmemif::MappedRegion;
using rxmemif::RingQueue;
using rxmemif::RxOutput;
using rxmemif::TxSource;
using Kind = RingQueue::Kind;
namespace ring = rxmemif::ring;

constexpr unsigned kLog2 = 4;  // 16 slots
constexpr std::uint32_t kSlots = 1u << kLog2;
constexpr std::uint32_t kBufferSize = 128;
constexpr std::uint64_t kBufferBase = 4096;
constexpr std::uint64_t kRegionSize = kBufferBase + kSlots * kBufferSize;

// One region holding one ring (at 0) and the client's buffers; both sides of a connection.
struct Link {
  std::vector<std::uint8_t> memory = std::vector<std::uint8_t>(kRegionSize, 0);
  double producer_counters[rxmemif::kCounterCount] = {};
  double consumer_counters[rxmemif::kCounterCount] = {};
  RingQueue producer;
  RingQueue consumer;

  ring::RingView View() { return ring::RingView(memory.data(), kLog2); }

  RingQueue::Config Config(Kind kind) {
    return RingQueue::Config{kind,       View(), {MappedRegion{memory.data(), kRegionSize}},
                             64 * 1024,  0,      kBufferBase,
                             kBufferSize};
  }

  // S2M: the client transmits, the server receives (server writes tail).
  static Link S2M() {
    Link l;
    l.producer.Open(l.Config(Kind::kClientTx));
    l.consumer.Open(l.Config(Kind::kServerRx));
    return l;
  }
  // M2S: the client offers buffers and receives, the server fills them.
  static Link M2S() {
    Link l;
    l.consumer.Open(l.Config(Kind::kClientRx));
    l.producer.Open(l.Config(Kind::kServerTx));
    l.consumer.BeginCall(l.consumer_counters);
    l.consumer.RefillSlots();
    return l;
  }

  std::uint32_t Send(const std::vector<std::string>& packets) {
    std::vector<std::uint8_t> data;
    std::vector<std::uint32_t> offsets, lengths;
    for (const std::string& p : packets) {
      offsets.push_back(static_cast<std::uint32_t>(data.size()));
      lengths.push_back(static_cast<std::uint32_t>(p.size()));
      data.insert(data.end(), p.begin(), p.end());
    }
    const std::uint8_t* base = data.data();
    producer.BeginCall(producer_counters);
    return producer.Transmit(TxSource{&base, nullptr, offsets.data(), lengths.data(),
                                      static_cast<std::uint32_t>(packets.size())},
                             -1);
  }

  std::vector<std::string> Receive(std::uint32_t max = 256) {
    std::vector<std::uint8_t> slab(256 * 1024);
    std::vector<std::uint32_t> offsets(max), lengths(max);
    consumer.BeginCall(consumer_counters);
    const std::uint32_t n = consumer.Receive(
        RxOutput{slab.data(), slab.size(), 0, offsets.data(), lengths.data(), nullptr, max});
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < n; i++) {
      out.emplace_back(reinterpret_cast<const char*>(slab.data()) + offsets[i], lengths[i]);
    }
    return out;
  }

  // Writes a descriptor as a hostile producer would, and publishes `count` slots from `from`.
  void Publish(std::uint16_t head, ring::Descriptor d) { View().Write(head, d); }
};

void Roundtrip(Link link) {
  const std::string big(300, 'x');  // 3 segments of 128 bytes
  CHECK_EQ(link.Send({"hello", big, "z"}), 3);
  CHECK_EQ(link.producer_counters[rxmemif::kPackets], 3);
  CHECK_EQ(link.producer_counters[rxmemif::kBytes], 306);
  CHECK_EQ(link.producer_counters[rxmemif::kBursts], 1);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 3);
  if (got.size() == 3) {
    CHECK(got[0] == "hello");
    CHECK(got[1] == big);
    CHECK(got[2] == "z");
  }
  CHECK_EQ(link.consumer_counters[rxmemif::kPackets], 3);
  CHECK_EQ(link.consumer_counters[rxmemif::kDescriptors], 5);
  // Everything returned: the producer has the whole ring again.
  link.producer.BeginCall(link.producer_counters);
  CHECK_EQ(link.producer.Pending(), kSlots);
}

void TestRoundtrip() {
  current = "client tx -> server rx, chains";
  Roundtrip(Link::S2M());
  current = "server tx -> client rx, chains";
  Roundtrip(Link::M2S());
}

void TestRingFull() {
  current = "ring full stops at a prefix";
  Link link = Link::S2M();
  std::vector<std::string> packets(20, "p");
  CHECK_EQ(link.Send(packets), kSlots);
  CHECK_EQ(link.producer_counters[rxmemif::kRingFull], 4);
  // A chain larger than the whole ring can never be sent: tooBig, skipped.
  link.Receive();
  CHECK_EQ(link.Send({std::string(kSlots * kBufferSize + 1, 'b'), "after"}), 2);
  CHECK_EQ(link.producer_counters[rxmemif::kTooBig], 1);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 1);
}

void TestHostileDescriptors() {
  current = "hostile descriptors are dropped and counted";
  Link link = Link::S2M();
  ring::RingView v = link.View();
  v.Write(0, ring::Descriptor{4, 0, 10, 4096, 0});                  // bad flags
  v.Write(1, ring::Descriptor{0, 7, 10, 4096, 0});                  // bad region
  v.Write(2, ring::Descriptor{0, 0, 0, 4096, 0});                   // zero length
  v.Write(3, ring::Descriptor{0, 0, 100, kRegionSize - 50, 0});     // beyond the region
  v.Write(4, ring::Descriptor{0, 0, 0xffffffffu, 0xffffffffu, 0});  // 64-bit sum, no wrap
  std::memcpy(link.memory.data() + 4096, "good", 4);
  v.Write(5, ring::Descriptor{0, 0, 4, 4096, 0});
  v.Head().store(6);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 1);
  if (got.size() == 1) CHECK(got[0] == "good");
  const double* c = link.consumer_counters;
  CHECK_EQ(c[rxmemif::kBadFlags], 1);
  CHECK_EQ(c[rxmemif::kBadRegion], 1);
  CHECK_EQ(c[rxmemif::kBadLength], 1);
  CHECK_EQ(c[rxmemif::kBadBounds], 2);
  CHECK_EQ(c[rxmemif::kDescriptors], 6);
  CHECK_EQ(v.Tail().load(), 6);
}

void TestBadIndex() {
  current = "a head moved by more than the ring is clamped, badIndex once per call";
  Link link = Link::S2M();
  ring::RingView v = link.View();
  for (std::uint32_t i = 0; i < kSlots; i++) v.Write(i, ring::Descriptor{0, 0, 1, 4096, 0});
  v.Head().store(kSlots + 5);
  link.consumer.BeginCall(link.consumer_counters);
  CHECK_EQ(link.consumer.Pending(), kSlots);
  CHECK_EQ(link.consumer_counters[rxmemif::kBadIndex], 0);  // Pending does not count
  CHECK_EQ(link.Receive(4).size(), 4);
  CHECK_EQ(link.consumer_counters[rxmemif::kBadIndex], 1);
}

void TestIncompleteChain() {
  current = "a chain whose end is not published waits, then completes";
  Link link = Link::S2M();
  ring::RingView v = link.View();
  std::memcpy(link.memory.data() + 4096, "abcdef", 6);
  v.Write(0, ring::Descriptor{ring::kDescFlagNext, 0, 3, 4096, 0});
  v.Head().store(1);
  CHECK_EQ(link.Receive().size(), 0);
  CHECK_EQ(link.consumer_counters[rxmemif::kDescriptors], 0);
  v.Write(1, ring::Descriptor{0, 0, 3, 4099, 0});
  v.Head().store(2);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 1);
  if (got.size() == 1) CHECK(got[0] == "abcdef");

  current = "a chain filling the whole ring is badChain";
  Link full = Link::S2M();
  ring::RingView f = full.View();
  for (std::uint32_t i = 0; i < kSlots; i++) {
    f.Write(i, ring::Descriptor{ring::kDescFlagNext, 0, 1, 4096, 0});
  }
  f.Head().store(kSlots);
  CHECK_EQ(full.Receive().size(), 0);
  CHECK_EQ(full.consumer_counters[rxmemif::kBadChain], 1);
  CHECK_EQ(f.Tail().load(), kSlots);
}

void TestPeek() {
  current = "peek reports in place and holds slots until released";
  Link link = Link::S2M();
  CHECK_EQ(link.Send({"one", "two"}), 2);
  std::vector<std::uint8_t> slab(1024);
  std::uint32_t offsets[8], lengths[8];
  std::int32_t regions[1] = {-2};
  link.consumer.BeginCall(link.consumer_counters);
  const std::uint32_t n =
      link.consumer.Peek(RxOutput{slab.data(), slab.size(), 0, offsets, lengths, regions, 8});
  CHECK_EQ(n, 2);
  CHECK_EQ(regions[0], 0);
  CHECK(std::memcmp(link.memory.data() + offsets[1], "two", 3) == 0);
  CHECK_EQ(link.View().Tail().load(), 0);
  CHECK_EQ(link.consumer.Pending(), 0);
  link.consumer.ReleaseHeld();
  CHECK_EQ(link.View().Tail().load(), 2);
}

void TestReserveCommit() {
  current = "reserve/commit publishes the client's own buffers";
  Link link = Link::S2M();
  std::uint32_t offsets[kSlots], capacities[kSlots];
  link.producer.BeginCall(link.producer_counters);
  CHECK_EQ(link.producer.Reserve(offsets, capacities, 3), 3);
  CHECK_EQ(offsets[1], kBufferBase + kBufferSize);
  CHECK_EQ(capacities[0], kBufferSize);
  std::memcpy(link.memory.data() + offsets[0], "zc", 2);
  const std::uint32_t lengths[1] = {2};
  CHECK_EQ(link.producer.Commit(lengths, 1, -1), 1);
  CHECK_EQ(link.producer.Reserved(), 0);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 1);
  if (got.size() == 1) CHECK(got[0] == "zc");
}

void TestRuns() {
  current = "packets from several buffers in one call";
  Link link = Link::S2M();
  const std::string a = "AAAAbbbb", b = "CCCC";
  const std::uint8_t* bases[2] = {reinterpret_cast<const std::uint8_t*>(a.data()),
                                  reinterpret_cast<const std::uint8_t*>(b.data())};
  const std::uint32_t base_of[3] = {0, 1, 0};
  const std::uint32_t offsets[3] = {4, 1, 0};
  const std::uint32_t lengths[3] = {4, 3, 2};
  link.producer.BeginCall(link.producer_counters);
  CHECK_EQ(link.producer.Transmit(TxSource{bases, base_of, offsets, lengths, 3}, -1), 3);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 3);
  if (got.size() == 3) {
    CHECK(got[0] == "bbbb");
    CHECK(got[1] == "CCC");
    CHECK(got[2] == "AA");
  }
}

void TestOverlap() {
  current = "a source overlapping the destination buffer (memmove)";
  Link link = Link::S2M();
  // The packet lies in the client's own slot 0 buffer shifted by 3 bytes: dest and source overlap.
  std::uint8_t* slot0 = link.memory.data() + kBufferBase;
  for (int i = 0; i < 64; i++) slot0[i] = static_cast<std::uint8_t>(i);
  const std::uint8_t* base = link.memory.data();
  const std::uint32_t offsets[1] = {static_cast<std::uint32_t>(kBufferBase + 3)};
  const std::uint32_t lengths[1] = {40};
  link.producer.BeginCall(link.producer_counters);
  CHECK_EQ(link.producer.Transmit(TxSource{&base, nullptr, offsets, lengths, 1}, -1), 1);
  const auto got = link.Receive();
  CHECK_EQ(got.size(), 1);
  if (got.size() == 1) {
    bool same = got[0].size() == 40;
    for (int i = 0; i < 40 && same; i++) same = static_cast<std::uint8_t>(got[0][i]) == i + 3;
    CHECK(same);
  }
}

void TestServerBadOffer() {
  current = "server tx stops at a client-offered buffer out of its region";
  Link link = Link::M2S();
  link.View().Write(1, ring::Descriptor{0, 0, 100, kRegionSize - 10, 0});
  CHECK_EQ(link.Send({"a", "b", "c"}), 1);
  CHECK_EQ(link.producer_counters[rxmemif::kBadOffer], 1);
  CHECK_EQ(link.View().Tail().load(), 1);
}

void TestClientRxTakeover() {
  current = "client rx taken over mid-connection reads on from the last returned slot";
  Link link = Link::M2S();
  CHECK_EQ(link.Send({"a", "b", "c", "d", "e"}), 5);
  const auto first = link.Receive(2);
  CHECK_EQ(first.size(), 2);
  // The first owner leaves (a worker thread exits); "c", "d", "e" wait in the ring.
  link.consumer.Reset();
  RingQueue::Config config = link.Config(Kind::kClientRx);
  config.resume = true;
  link.consumer.Open(config);
  const auto rest = link.Receive();
  CHECK_EQ(rest.size(), 3);
  if (rest.size() == 3) {
    CHECK(rest[0] == "c");
    CHECK(rest[2] == "e");
  }
  // Every slot is offered again: the server has the whole ring.
  link.producer.BeginCall(link.producer_counters);
  CHECK_EQ(link.producer.Pending(), kSlots);
  CHECK_EQ(link.consumer_counters[rxmemif::kBadIndex], 0);

  current = "client rx opened from tail (no resume) would skip them";
  Link plain = Link::M2S();
  CHECK_EQ(plain.Send({"a", "b", "c"}), 3);
  plain.consumer.Reset();
  plain.consumer.Open(plain.Config(Kind::kClientRx));
  CHECK_EQ(plain.Receive().size(), 0);

  current = "client rx resumed before anything was offered starts at 0";
  Link fresh;
  RingQueue::Config at_start = fresh.Config(Kind::kClientRx);
  at_start.resume = true;
  fresh.consumer.Open(at_start);
  fresh.producer.Open(fresh.Config(Kind::kServerTx));
  CHECK_EQ(fresh.Receive().size(), 0);
  fresh.consumer.BeginCall(fresh.consumer_counters);
  fresh.consumer.RefillSlots();
  CHECK_EQ(fresh.Send({"x"}), 1);
  const auto got = fresh.Receive();
  CHECK_EQ(got.size(), 1);
  CHECK_EQ(fresh.consumer_counters[rxmemif::kBadIndex], 0);
}

}  // namespace

int main() {
  TestRoundtrip();
  TestRingFull();
  TestHostileDescriptors();
  TestBadIndex();
  TestIncompleteChain();
  TestPeek();
  TestReserveCommit();
  TestRuns();
  TestOverlap();
  TestServerBadOffer();
  TestClientRxTakeover();
  std::printf("ring unit: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
