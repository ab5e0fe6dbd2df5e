#include "poller.h"

#include "handle_registry.h"

namespace rxmemif {

int Poller::Create(Registry& registry, int fd, PollTarget* target, Poller** out) {
  auto* poller = new Poller(registry, target);
  int err = uv_poll_init(registry.Loop(), &poller->handle_, fd);
  if (err != 0) {
    // Never initialised, so not known to the loop: plain delete.
    delete poller;
    return err;
  }
  poller->handle_.data = poller;
  *out = poller;
  return 0;
}

int Poller::Start(int events) {
  return uv_poll_start(&handle_, events, OnPollCallback);
}

void Poller::Stop() {
  uv_poll_stop(&handle_);
}

void Poller::Close() {
  target_ = nullptr;
  // uv_close() stops the poll and takes the fd out of epoll now, so the fd may be closed next.
  registry_.HandleClosing();
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnCloseCallback);
}

void Poller::OnPollCallback(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Poller*>(handle->data);
  if (self->target_ != nullptr) self->target_->OnPoll(status, events);
}

void Poller::OnCloseCallback(uv_handle_t* handle) {
  auto* self = static_cast<Poller*>(handle->data);
  Registry& registry = self->registry_;
  delete self;
  registry.HandleClosed();
}

int Timer::Create(Registry& registry, TimerTarget* target, Timer** out) {
  auto* timer = new Timer(registry, target);
  int err = uv_timer_init(registry.Loop(), &timer->handle_);
  if (err != 0) {
    delete timer;
    return err;
  }
  timer->handle_.data = timer;
  *out = timer;
  return 0;
}

int Timer::Start(std::uint64_t timeout_ms) {
  return uv_timer_start(&handle_, OnTimerCallback, timeout_ms, 0);
}

void Timer::Stop() {
  uv_timer_stop(&handle_);
}

void Timer::Close() {
  target_ = nullptr;
  registry_.HandleClosing();
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_), OnCloseCallback);
}

void Timer::OnTimerCallback(uv_timer_t* handle) {
  auto* self = static_cast<Timer*>(handle->data);
  if (self->target_ != nullptr) self->target_->OnTimer();
}

void Timer::OnCloseCallback(uv_handle_t* handle) {
  auto* self = static_cast<Timer*>(handle->data);
  Registry& registry = self->registry_;
  delete self;
  registry.HandleClosed();
}

}  // namespace rxmemif
