#include "control_listener.h"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

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

// Who may use the socket file: set on it before anyone can reach it (see BindWithAccess).
struct FileAccess {
  bool set_mode = false;
  mode_t mode = 0;
  bool set_group = false;
  gid_t gid = 0;
  bool Any() const { return set_mode || set_group; }
};

UniqueFd NewListenerSocket(Napi::Env env) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.Get() < 0) ThrowErrno(env, errno, "socket", "socket(AF_UNIX, SOCK_SEQPACKET)");
  // Before bind, so that every accepted socket inherits it (all memif servers set it).
  int one = 1;
  if (::setsockopt(fd.Get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
    ThrowErrno(env, errno, "setsockopt", "setsockopt(SO_PASSCRED)");
  }
  return fd;
}

// What to do about an existing file on the path: returns only when it is gone (now or after
// removing a stale socket); throws EADDRINUSE for anything alive or not ours to remove.
void ClearPath(Napi::Env env, const UnixAddress& address, const std::string& where) {
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
      return;
    case Occupant::kGone:
      return;
  }
}

UniqueFd BindListener(Napi::Env env, const UnixAddress& address) {
  const std::string where = "bind(" + address.text + ")";
  UniqueFd fd = NewListenerSocket(env);
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
    ClearPath(env, address, where);
  }
}

// Binds with the socket file's mode and group set before the file appears on its path: the
// socket is bound in a fresh 0700 directory next to the path, given its mode and group there,
// then hard-linked onto the path (link(2) never replaces an existing file, so a live listener is
// never stolen) and the temporary name removed. A socket is reached by its inode, so the link
// is the listener. No one but root ever sees the file with looser permissions.
UniqueFd BindWithAccess(Napi::Env env, const UnixAddress& address, const FileAccess& access) {
  const std::string where = "bind(" + address.text + ")";
  const std::size_t slash = address.path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : address.path.substr(0, slash);
  std::string temp_dir = (dir.empty() ? "" : dir) + "/.rx-memif-XXXXXX";
  if (::mkdtemp(temp_dir.data()) == nullptr) {
    ThrowErrno(env, errno, "mkdtemp", where + ": mkdtemp(" + temp_dir + ")");
  }
  const std::string temp_path = temp_dir + "/s";
  struct RemoveTemporary {
    const std::string& dir;
    const std::string& path;
    ~RemoveTemporary() {
      ::unlink(path.c_str());
      ::rmdir(dir.c_str());
    }
  } remove_temporary{temp_dir, temp_path};
  if (temp_path.size() >= sizeof(sockaddr_un::sun_path)) {
    Throw(env, ENAMETOOLONG, "bind",
          where + ": socketMode/socketGroup bind through the longer temporary name " + temp_path +
              " (over 107 bytes); use a shorter path");
  }
  UnixAddress temp;
  temp.addr.sun_family = AF_UNIX;
  std::memcpy(temp.addr.sun_path, temp_path.c_str(), temp_path.size() + 1);
  temp.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + temp_path.size() + 1);

  UniqueFd fd = NewListenerSocket(env);
  if (::bind(fd.Get(), reinterpret_cast<const sockaddr*>(&temp.addr), temp.length) != 0) {
    ThrowErrno(env, errno, "bind", "bind(" + temp_path + ") for " + address.text);
  }
  if (access.set_mode && ::chmod(temp_path.c_str(), access.mode) != 0) {
    ThrowErrno(env, errno, "chmod", where + ": chmod of the socket file");
  }
  if (access.set_group && ::chown(temp_path.c_str(), static_cast<uid_t>(-1), access.gid) != 0) {
    ThrowErrno(env, errno, "chown",
               where + ": chown to group " + std::to_string(access.gid) + " of the socket file");
  }
  for (int attempt = 0;; ++attempt) {
    if (::link(temp_path.c_str(), address.path.c_str()) == 0) return fd;
    const int err = errno;
    if (err != EEXIST) ThrowErrno(env, err, "link", where + ": link(" + temp_path + ")");
    if (attempt > 0) Throw(env, EADDRINUSE, "bind", where + ": address in use");
    ClearPath(env, address, where);
  }
}

// The optional 4th argument of listen: {mode?: number, group?: number | string}.
FileAccess ArgFileAccess(const Napi::CallbackInfo& info, std::size_t index) {
  Napi::Env env = info.Env();
  FileAccess access;
  if (info.Length() <= index || info[index].IsUndefined()) return access;
  if (!info[index].IsObject()) {
    Throw(env, EINVAL, "", "ControlListener.listen: options must be an object");
  }
  Napi::Object options = info[index].As<Napi::Object>();
  Napi::Value mode = options.Get("mode");
  if (!mode.IsUndefined()) {
    const double m = mode.IsNumber() ? mode.As<Napi::Number>().DoubleValue() : -1;
    if (!(m >= 0 && m <= 07777) || m != static_cast<double>(static_cast<int>(m))) {
      Throw(env, EINVAL, "", "ControlListener.listen: mode must be an integer in 0..0o7777");
    }
    access.set_mode = true;
    access.mode = static_cast<mode_t>(m);
  }
  Napi::Value group = options.Get("group");
  if (group.IsNumber()) {
    const double g = group.As<Napi::Number>().DoubleValue();
    if (!(g >= 0 && g < 4294967295.0) || g != static_cast<double>(static_cast<gid_t>(g))) {
      Throw(env, EINVAL, "", "ControlListener.listen: group must be a gid or a group name");
    }
    access.set_group = true;
    access.gid = static_cast<gid_t>(g);
  } else if (group.IsString()) {
    const std::string name = group.As<Napi::String>().Utf8Value();
    std::vector<char> buffer(4096);
    struct group entry;
    struct group* found = nullptr;
    int err;
    while ((err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
    }
    if (err != 0) ThrowErrno(env, err, "getgrnam_r", "socketGroup " + name);
    if (found == nullptr) {
      Throw(env, ENOENT, "getgrnam_r", "socketGroup: no group named " + name);
    }
    access.set_group = true;
    access.gid = found->gr_gid;
  } else if (!group.IsUndefined()) {
    Throw(env, EINVAL, "", "ControlListener.listen: group must be a gid or a group name");
  }
  return access;
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
  const FileAccess access = ArgFileAccess(info, 3);
  UnixAddress address = ParseUnixAddress(env, text, "bind");
  if (access.Any() && address.abstract) {
    Throw(env, EINVAL, "bind",
          "bind(" + text + "): socketMode/socketGroup need a socket file; an abstract socket has " +
              "none (its access cannot be restricted by mode or group)");
  }
  UniqueFd fd = access.Any() ? BindWithAccess(env, address, access) : BindListener(env, address);

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
