#include "event_fd.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "errors.h"
#include "js_util.h"
#include "share_table.h"
#include "unique_fd.h"

namespace rxmemif {

namespace {

constexpr char kEventFdLink[] = "anon_inode:[eventfd]";

}  // namespace

SharedFd::~SharedFd() {
  ::close(fd_);
}

Napi::Function EventFd::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(env, "EventFd",
                                 {
                                     StaticMethod<&EventFd::Create>("create"),
                                     StaticMethod<&EventFd::Adopt>("adopt"),
                                     StaticMethod<&EventFd::Attach>("attach"),
                                     InstanceMethod<&EventFd::Share>("share"),
                                     InstanceAccessor<&EventFd::GetFd>("fd"),
                                     InstanceAccessor("closed", &EventFd::GetClosed, nullptr),
                                     InstanceMethod<&EventFd::Signal>("signal"),
                                     InstanceMethod<&EventFd::Drain>("drain"),
                                     InstanceMethod<&EventFd::Watch>("watch"),
                                     InstanceMethod<&EventFd::Unwatch>("unwatch"),
                                     InstanceMethod<&EventFd::Close>("close"),
                                 });
}

Napi::Object EventFd::Wrap(Napi::Env env, int raw_fd) {
  UniqueFd fd(raw_fd);
  auto shared = std::make_shared<SharedFd>(fd.Get());
  // From here `shared` closes it.
  fd.Release();
  return WrapShared(env, std::move(shared), 0);
}

Napi::Object EventFd::WrapShared(Napi::Env env, std::shared_ptr<SharedFd> fd, std::uint64_t token) {
  Napi::Object object = NewInstance(env, Registry::From(env).eventFdClass);
  EventFd* self = Unwrap(object);
  self->fd_ = fd->Get();
  self->shared_ = std::move(fd);
  self->owner_ = token == 0;
  self->token_ = token;
  self->Register();
  return object;
}

Napi::Value EventFd::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t token = ArgToken(info, 0, "EventFd.attach");
  std::shared_ptr<SharedFd> fd = ShareTable<SharedFd>::Get().Find(token);
  if (fd == nullptr) {
    Throw(env, ENOENT, "",
          "EventFd.attach(" + std::to_string(token) +
              "): no open eventfd is shared under this token (never shared, or its owner closed)");
  }
  return WrapShared(env, std::move(fd), token);
}

Napi::Value EventFd::Share(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOpen()) Throw(env, EBADF, "", "EventFd.share: the eventfd is closed");
  if (token_ == 0) {
    const std::uint64_t token = NextShareToken();
    ShareTable<SharedFd>::Get().Add(token, shared_);
    token_ = token;
  }
  return Napi::Number::New(env, static_cast<double>(token_));
}

Napi::Value EventFd::Create(const Napi::CallbackInfo& info) {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), errno, "eventfd", "eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)");
  return Wrap(info.Env(), fd);
}

Napi::Value EventFd::Adopt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int raw_fd = ArgFd(info, 0, "EventFd.adopt");
  if (raw_fd < 0) Throw(env, EBADF, "", "EventFd.adopt: fd " + std::to_string(raw_fd));
  UniqueFd fd(raw_fd);
  const std::string what = "EventFd.adopt(fd " + std::to_string(raw_fd) + ")";
  // A peer could hand over any fd; only an eventfd can be signalled and drained as one.
  const std::string link_path = "/proc/self/fd/" + std::to_string(raw_fd);
  char target[256];
  ssize_t length = ::readlink(link_path.c_str(), target, sizeof target - 1);
  if (length < 0) {
    // No /proc entry means the fd is not open.
    ThrowErrno(env, errno == ENOENT ? EBADF : errno, "readlink", what);
  }
  target[length] = '\0';
  if (std::string(target) != kEventFdLink) {
    Throw(env, EPROTO, "readlink",
          what + ": not an eventfd (it is " + target + "); a memif ring needs an eventfd");
  }
  int flags = ::fcntl(fd.Get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.Get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    ThrowErrno(env, errno, "fcntl", what + ": setting O_NONBLOCK");
  }
  int fd_flags = ::fcntl(fd.Get(), F_GETFD);
  if (fd_flags >= 0) ::fcntl(fd.Get(), F_SETFD, fd_flags | FD_CLOEXEC);
  return Wrap(env, fd.Release());
}

Napi::Value EventFd::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

void EventFd::Signal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOpen()) Throw(env, EBADF, "write", "EventFd.signal: the eventfd is closed");
  const std::uint64_t one = 1;
  ssize_t written;
  do {
    written = ::write(fd_, &one, sizeof one);
  } while (written < 0 && errno == EINTR);
  // EAGAIN: the counter is saturated, the reader is woken anyway.
  if (written < 0 && errno != EAGAIN) {
    ThrowErrno(env, errno, "write", "EventFd.signal(fd " + std::to_string(fd_) + ")");
  }
}

long long EventFd::ReadCounter() const {
  std::uint64_t value = 0;
  ssize_t got;
  do {
    got = ::read(fd_, &value, sizeof value);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return errno == EAGAIN ? 0 : -errno;
  return static_cast<long long>(value);
}

Napi::Value EventFd::Drain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOpen()) Throw(env, EBADF, "read", "EventFd.drain: the eventfd is closed");
  long long value = ReadCounter();
  if (value < 0) {
    ThrowErrno(env, static_cast<int>(-value), "read",
               "EventFd.drain(fd " + std::to_string(fd_) + ")");
  }
  return Napi::Number::New(env, static_cast<double>(value));
}

void EventFd::Watch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Function on_signal = ArgFunction(info, 0, "EventFd.watch", "onSignal");
  if (!IsOpen()) Throw(env, EBADF, "", "EventFd.watch: the eventfd is closed");
  if (poller_ == nullptr) {
    // libuv allows one poll handle per fd and loop: an owner and its attachment in the same
    // environment share the fd number, so only one of them may watch it.
    const int fd = fd_;
    if (registry_.AnyLive<EventFd>(
            [fd](const EventFd& other) { return other.Watching() && other.Fd() == fd; })) {
      Throw(env, EBUSY, "",
            "EventFd.watch: fd " + std::to_string(fd) +
                " is already watched in this thread by another EventFd over the same eventfd");
    }
    Poller* poller = nullptr;
    int err = Poller::Create(registry_, fd_, this, &poller);
    if (err != 0) ThrowErrno(env, -err, "uv_poll_init", "EventFd.watch");
    err = poller->Start(UV_READABLE);
    if (err != 0) {
      poller->Close();
      ThrowErrno(env, -err, "uv_poll_start", "EventFd.watch");
    }
    poller_ = poller;
  }
  on_signal_ = Napi::Persistent(on_signal);
  Pin();
}

void EventFd::OnPoll(int status, int) noexcept {
  // libuv stops the handle on a poll error; an interrupt has nothing to report it to.
  if (status < 0) return;
  long long count = ReadCounter();
  if (count <= 0 || on_signal_.IsEmpty()) return;
  Napi::Env env = Env();
  Guard(env, [&] {
    Invoke(env, on_signal_.Value(), Value(), {Napi::Number::New(env, static_cast<double>(count))});
  });
}

void EventFd::Unwatch(const Napi::CallbackInfo&) {
  StopWatching();
}

void EventFd::Close(const Napi::CallbackInfo&) {
  Release();
}

void EventFd::Finalize(Napi::Env) {
  Release();
}

void EventFd::CloseForTeardown() noexcept {
  Release();
}

void EventFd::StopWatching() noexcept {
  if (poller_ != nullptr) {
    poller_->Close();
    poller_ = nullptr;
  }
  ResetQuietly(on_signal_);
  Unpin();
}

void EventFd::Release() noexcept {
  StopWatching();
  if (owner_ && token_ != 0 && shared_ != nullptr) ShareTable<SharedFd>::Get().Remove(token_);
  // The fd is closed when the last holder lets go.
  shared_.reset();
  fd_ = -1;
  Unregister();
}

}  // namespace rxmemif
