#include "control_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "control_channel.h"
#include "errors.h"
#include "js_util.h"
#include "unique_fd.h"
#include "unix_address.h"

namespace rxmemif {

namespace {

constexpr int kBacklog = 128;
constexpr std::uint64_t kAcceptBackoffMs = 100;

enum class Occupant { kLive, kStale, kGone, kNotSocket, kUnknown };

// Who holds an existing filesystem path: a connect() probe tells a live listener (accepts, or
// its backlog is full) from a stale socket file (ECONNREFUSED). A live listener sees the probe
// as a connection that closes at once.
Occupant ProbePath(const UnixAddress& address, int* probe_errno) {
  struct stat info;
  if (::lstat(address.path.c_str(), &info) != 0) {
    *probe_errno = errno;
    return errno == ENOENT ? Occupant::kGone : Occupant::kUnknown;
  }
  if (!S_ISSOCK(info.st_mode)) return Occupant::kNotSocket;
  UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (probe.Get() < 0) {
    *probe_errno = errno;
    return Occupant::kUnknown;
  }
  int rc;
  do {
    rc = ::connect(probe.Get(), reinterpret_cast<const sockaddr*>(&address.addr), address.length);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return Occupant::kLive;
  *probe_errno = errno;
  switch (errno) {
    case ECONNREFUSED:
      return Occupant::kStale;
    case ENOENT:
      return Occupant::kGone;
    case EAGAIN:       // backlog full
    case EPROTOTYPE:   // a live socket of another type
    case EINPROGRESS:  // not for AF_UNIX today, but it would mean someone is there
      return Occupant::kLive;
    default:
      return Occupant::kUnknown;
  }
}

UniqueFd BindListener(Napi::Env env, const UnixAddress& address) {
  const std::string where = "bind(" + address.text + ")";
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.Get() < 0) ThrowErrno(env, errno, "socket", "socket(AF_UNIX, SOCK_SEQPACKET)");
  // Before bind, so that every accepted socket inherits it (all memif servers set it).
  int one = 1;
  if (::setsockopt(fd.Get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    ThrowErrno(env, errno, "setsockopt", "setsockopt(SO_PASSCRED)");
  }
  for (int attempt = 0;; ++attempt) {
    if (::bind(fd.Get(), reinterpret_cast<const sockaddr*>(&address.addr), address.length) == 0) {
      return fd;
    }
    int err = errno;
    if (err != EADDRINUSE) ThrowErrno(env, err, "bind", where);
    if (address.abstract) {
      // Abstract names vanish with their socket: whoever has it is alive.
      Throw(env, EADDRINUSE, "bind", where + ": abstract name in use by a live socket");
    }
    if (attempt > 0) Throw(env, EADDRINUSE, "bind", where + ": address in use");
    int probe_errno = 0;
    switch (ProbePath(address, &probe_errno)) {
      case Occupant::kLive:
        Throw(env, EADDRINUSE, "bind", where + ": address in use by a live listener");
      case Occupant::kNotSocket:
        Throw(env, EADDRINUSE, "bind", where + ": the path exists and is not a socket");
      case Occupant::kUnknown:
        Throw(env, EADDRINUSE, "bind",
              where + ": address in use (cannot tell whether a listener is alive: " +
                  Describe(probe_errno) + ")");
      case Occupant::kStale:
        // Nothing accepts on it: a listener died without unlinking. Replace it.
        if (::unlink(address.path.c_str()) != 0 && errno != ENOENT) {
          ThrowErrno(env, errno, "unlink", "unlink(" + address.path + ") of a stale socket");
        }
        break;
      case Occupant::kGone:
        break;
    }
  }
}

}  // namespace

Napi::Function ControlListener::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(
      env, "ControlListener",
      {
          StaticMethod<&ControlListener::Listen>("listen"),
          InstanceAccessor<&ControlListener::GetAddress>("address"),
          InstanceAccessor("closed", &ControlListener::GetClosed, nullptr),
          InstanceMethod<&ControlListener::Close>("close"),
      });
}

Napi::Value ControlListener::Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string text = ArgString(info, 0, "ControlListener.listen", "address");
  Napi::Function on_connection = ArgFunction(info, 1, "ControlListener.listen", "onConnection");
  Napi::Function on_error = ArgFunction(info, 2, "ControlListener.listen", "onError");
  UnixAddress address = ParseUnixAddress(env, text, "bind");
  UniqueFd fd = BindListener(env, address);

  // From here on the socket file is ours: remove it again if anything below fails.
  struct UnlinkOnFailure {
    const std::string& path;
    bool armed = true;
    ~UnlinkOnFailure() {
      if (armed && !path.empty()) ::unlink(path.c_str());
    }
  } unlink_on_failure{address.path};

  struct stat bound;
  bool have_inode = !address.abstract && ::stat(address.path.c_str(), &bound) == 0;
  if (::listen(fd.Get(), kBacklog) != 0) ThrowErrno(env, errno, "listen", "listen(" + text + ")");

  Napi::Object object = NewInstance(env, Registry::From(env).listenerClass);
  ControlListener* self = Unwrap(object);
  Registry& registry = self->registry_;
  Poller* poller = nullptr;
  int err = Poller::Create(registry, fd.Get(), self, &poller);
  if (err != 0) ThrowErrno(env, -err, "uv_poll_init", "listen(" + text + ")");
  Timer* backoff = nullptr;
  err = poller->Start(UV_READABLE);
  if (err == 0) err = Timer::Create(registry, self, &backoff);
  if (err != 0) {
    poller->Close();
    ThrowErrno(env, -err, "uv_poll_start", "listen(" + text + ")");
  }

  unlink_on_failure.armed = false;
  self->fd_ = fd.Release();
  self->address_ = text;
  self->path_ = address.path;
  self->have_inode_ = have_inode;
  if (have_inode) {
    self->dev_ = bound.st_dev;
    self->ino_ = bound.st_ino;
  }
  self->poller_ = poller;
  self->backoff_ = backoff;
  self->on_connection_ = Napi::Persistent(on_connection);
  self->on_error_ = Napi::Persistent(on_error);
  self->Register();
  self->Pin();
  return object;
}

Napi::Value ControlListener::GetAddress(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), address_);
}

void ControlListener::Close(const Napi::CallbackInfo&) {
  Release();
}

void ControlListener::Finalize(Napi::Env) {
  Release();
}

void ControlListener::CloseForTeardown() noexcept {
  Release();
}

void ControlListener::OnPoll(int status, int) noexcept {
  Napi::Env env = Env();
  Guard(env, [&] {
    if (status < 0) {
      Fail(env, -status, "uv_poll");
    } else {
      AcceptAll(env);
    }
  });
}

void ControlListener::OnTimer() noexcept {
  if (!IsOpen()) return;
  int err = poller_->Start(UV_READABLE);
  if (err != 0) {
    Napi::Env env = Env();
    Guard(env, [&] { Fail(env, -err, "uv_poll_start"); });
  }
}

void ControlListener::AcceptAll(Napi::Env env) {
  Napi::Object self = Value();
  while (IsOpen()) {
    UniqueFd fd(::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.Get() < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      Fail(env, err, "accept4");
      return;
    }
    Napi::HandleScope scope(env);
    Napi::Object channel = ControlChannel::FromSocket(env, std::move(fd));
    // If JS cannot run any more the channel is registered, so the teardown closes it.
    if (Invoke(env, on_connection_.Value(), self, {channel}) == CallResult::kNotRun) return;
  }
}

void ControlListener::Fail(Napi::Env env, int errnum, const char* syscall) {
  if (!IsOpen()) return;
  poller_->Stop();
  backoff_->Start(kAcceptBackoffMs);
  Napi::Value error = ErrnoError(env, errnum, syscall, "accept on " + address_).Value();
  Invoke(env, on_error_.Value(), Value(), {error});
}

void ControlListener::Release() noexcept {
  if (poller_ != nullptr) {
    poller_->Close();
    poller_ = nullptr;
  }
  if (backoff_ != nullptr) {
    backoff_->Close();
    backoff_ = nullptr;
  }
  if (fd_ >= 0) {
    // Unlink only our own socket file: someone may have replaced it since.
    struct stat info;
    if (have_inode_ && ::lstat(path_.c_str(), &info) == 0 && S_ISSOCK(info.st_mode) &&
        info.st_dev == dev_ && info.st_ino == ino_) {
      ::unlink(path_.c_str());
    }
    ::close(fd_);
    fd_ = -1;
  }
  ResetQuietly(on_connection_);
  ResetQuietly(on_error_);
  Unregister();
  Unpin();
}

}  // namespace rxmemif
