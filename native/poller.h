#pragma once

#include <uv.h>

#include <cstdint>

namespace rxmemif {

class Registry;

// Receives uv_poll wake-ups; must not throw.
class PollTarget {
 public:
  virtual void OnPoll(int status, int events) noexcept = 0;

 protected:
  ~PollTarget() = default;
};

// Receives a Timer's expiry; must not throw.
class TimerTarget {
 public:
  virtual void OnTimer() noexcept = 0;

 protected:
  ~TimerTarget() = default;
};

// A heap-allocated uv_poll_t. Close() stops it and detaches the target at once; libuv frees it
// later in the close callback, so the owner may go away right after Close().
class Poller {
 public:
  // Returns 0, or a negative libuv error and no poller.
  static int Create(Registry& registry, int fd, PollTarget* target, Poller** out);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  int Start(int events);
  void Stop();
  // The pointer is dead after this call.
  void Close();

 private:
  Poller(Registry& registry, PollTarget* target) : registry_(registry), target_(target) {}
  ~Poller() = default;
  static void OnPollCallback(uv_poll_t* handle, int status, int events);
  static void OnCloseCallback(uv_handle_t* handle);

  uv_poll_t handle_{};
  Registry& registry_;
  PollTarget* target_;
};

// A heap-allocated one-shot uv_timer_t, closed like Poller.
class Timer {
 public:
  static int Create(Registry& registry, TimerTarget* target, Timer** out);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  int Start(std::uint64_t timeout_ms);
  void Stop();
  void Close();

 private:
  Timer(Registry& registry, TimerTarget* target) : registry_(registry), target_(target) {}
  ~Timer() = default;
  static void OnTimerCallback(uv_timer_t* handle);
  static void OnCloseCallback(uv_handle_t* handle);

  uv_timer_t handle_{};
  Registry& registry_;
  TimerTarget* target_;
};

}  // namespace rxmemif
