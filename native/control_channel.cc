#include "control_channel.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "errors.h"
#include "js_util.h"
#include "unix_address.h"

namespace rxmemif {

namespace {

// memif messages are 128 bytes; a larger buffer lets a longer datagram show as such.
constexpr std::size_t kReceiveBuffer = 256;
// Credentials (SO_PASSCRED on the listener side) come before the fds: room for both.
constexpr std::size_t kMaxFdsPerMessage = 16;
constexpr std::size_t kControlBuffer =
    CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage);

// One datagram and its ancillary data (credentials, up to kMaxFdsPerMessage fds).
class Datagram {
 public:
  // One non-blocking recvmsg(2); its result (-1 with errno set on failure).
  ssize_t Receive(int fd, int flags) noexcept {
    iov_ = iovec{data_, sizeof data_};
    msg_ = msghdr{};
    msg_.msg_iov = &iov_;
    msg_.msg_iovlen = 1;
    msg_.msg_control = control_;
    msg_.msg_controllen = sizeof control_;
    return ::recvmsg(fd, &msg_, flags | MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  }

  // The fds passed with it (SCM_RIGHTS), in order; the caller owns them.
  // Not const: glibc's CMSG_NXTHDR takes a mutable msghdr.
  std::vector<int> Fds() {
    std::vector<int> fds;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg_); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg_, cmsg)) {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        fds.push_back(fd);
      }
    }
    return fds;
  }

  const unsigned char* Data() const { return data_; }
  static constexpr std::size_t Capacity() { return kReceiveBuffer; }
  int Flags() const { return msg_.msg_flags; }
  bool HasControl() const { return msg_.msg_controllen != 0; }

 private:
  unsigned char data_[kReceiveBuffer];
  alignas(cmsghdr) unsigned char control_[kControlBuffer];
  iovec iov_{};
  msghdr msg_{};
};

// Reads and drops whatever the peer sent that we will never handle, closing any fds in it.
// Closing an AF_UNIX socket with unread data makes the kernel report ECONNRESET to the peer
// *before* the datagrams still queued for it, so our last words (a DISCONNECT and its reason)
// would be lost to any peer that stops at the error (VPP, libmemif and DPDK all do).
void DiscardUnread(int fd) noexcept {
  Datagram datagram;
  for (int i = 0; i < 1024; ++i) {
    const ssize_t length = datagram.Receive(fd, 0);
    if (length < 0 && errno == EINTR) continue;
    if (length < 0) return;
    for (int passed : datagram.Fds()) ::close(passed);
    if (length == 0 && !datagram.HasControl()) return;  // EOF
  }
}

}  // namespace

Napi::Function ControlChannel::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(
      env, "ControlChannel",
      {
          StaticMethod<&ControlChannel::Connect>("connect"),
          InstanceAccessor("closed", &ControlChannel::GetClosed, nullptr),
          InstanceMethod<&ControlChannel::Start>("start"),
          InstanceMethod<&ControlChannel::Send>("send"),
          InstanceMethod<&ControlChannel::Close>("close"),
          InstanceAccessor<&ControlChannel::GetPeer>("peer"),
      });
}

Napi::Object ControlChannel::FromSocket(Napi::Env env, UniqueFd fd) {
  Napi::Object object = NewInstance(env, Registry::From(env).channelClass);
  Unwrap(object)->Adopt(std::move(fd));
  return object;
}

Napi::Value ControlChannel::GetPeer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOpen()) return env.Undefined();
  // The kernel's record of who is on the other end, taken when the connection was made: the
  // connecting process for an accepted socket, the listening one for a connected socket.
  ucred cred{};
  socklen_t length = sizeof cred;
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    ThrowErrno(env, errno, "getsockopt", "getsockopt(SO_PEERCRED)");
  }
  Napi::Object peer = Napi::Object::New(env);
  peer.Set("pid", Napi::Number::New(env, cred.pid));
  peer.Set("uid", Napi::Number::New(env, cred.uid));
  peer.Set("gid", Napi::Number::New(env, cred.gid));
  return peer;
}

void ControlChannel::Finalize(Napi::Env) {
  Release();
}

void ControlChannel::CloseForTeardown() noexcept {
  Release();
}

void ControlChannel::Adopt(UniqueFd fd) {
  fd_ = fd.Release();
  Register();
}

Napi::Value ControlChannel::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string text = ArgString(info, 0, "ControlChannel.connect", "address");
  UnixAddress address = ParseUnixAddress(env, text, "connect");
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.Get() < 0) ThrowErrno(env, errno, "socket", "socket(AF_UNIX, SOCK_SEQPACKET)");
  int rc;
  do {
    rc = ::connect(fd.Get(), reinterpret_cast<const sockaddr*>(&address.addr), address.length);
  } while (rc < 0 && errno == EINTR);
  // AF_UNIX connects at once or fails (EAGAIN: the listener's backlog is full).
  if (rc < 0) ThrowErrno(env, errno, "connect", "connect(" + text + ")");
  return FromSocket(env, std::move(fd));
}

void ControlChannel::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Function on_frame = ArgFunction(info, 0, "ControlChannel.start", "onFrame");
  Napi::Function on_close = ArgFunction(info, 1, "ControlChannel.start", "onClose");
  if (!IsOpen()) Throw(env, EBADF, "", "ControlChannel.start: the channel is closed");
  if (poller_ != nullptr) Throw(env, EINVAL, "", "ControlChannel.start: already started");
  Poller* poller = nullptr;
  int err = Poller::Create(registry_, fd_, this, &poller);
  if (err != 0) ThrowErrno(env, -err, "uv_poll_init", "ControlChannel.start");
  err = poller->Start(UV_READABLE | UV_DISCONNECT);
  if (err != 0) {
    poller->Close();
    ThrowErrno(env, -err, "uv_poll_start", "ControlChannel.start");
  }
  poller_ = poller;
  on_frame_ = Napi::Persistent(on_frame);
  on_close_ = Napi::Persistent(on_close);
  Pin();
}

void ControlChannel::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Throw(env, EINVAL, "", "ControlChannel.send: frame must be a Uint8Array");
  }
  Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  int pass_fd = -1;
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    pass_fd = ArgFd(info, 1, "ControlChannel.send");
  }
  if (!IsOpen()) Throw(env, EBADF, "sendmsg", "ControlChannel.send: the channel is closed");
  // A zero-length datagram reads as a close to every memif peer.
  if (frame.ByteLength() == 0) {
    Throw(env, EINVAL, "sendmsg", "ControlChannel.send: refusing to send an empty datagram");
  }

  iovec iov{frame.Data(), frame.ByteLength()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    cmsghdr align;
    unsigned char bytes[CMSG_SPACE(sizeof(int))];
  } control{};
  if (pass_fd >= 0) {
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) ThrowErrno(env, errno, "sendmsg", "sendmsg on a memif control channel");
}

void ControlChannel::Close(const Napi::CallbackInfo&) {
  Release();
}

void ControlChannel::OnPoll(int status, int events) noexcept {
  Napi::Env env = Env();
  Guard(env, [&] {
    if (status < 0) {
      // libuv reports POLLERR as UV_EBADF (and stops the handle). On this socket POLLERR means a
      // pending socket error, in practice ECONNRESET: the peer closed while something we sent
      // was still unread. What the peer sent before closing (its DISCONNECT and the reason in
      // it) is still queued behind that error: read it, then end.
      ReadAll(env, UV_DISCONNECT);
      if (IsOpen()) End(env, -status, "uv_poll");
    } else {
      ReadAll(env, events);
    }
  });
}

void ControlChannel::ReadAll(Napi::Env env, int events) {
  Napi::Object self = Value();
  bool reset_seen = false;
  Datagram datagram;
  // Everything queued is read in one wake; a callback may close the channel in between.
  while (IsOpen()) {
    Napi::HandleScope scope(env);
    // MSG_TRUNC makes the result the datagram's real length.
    const ssize_t length = datagram.Receive(fd_, MSG_TRUNC);
    if (length < 0) {
      int err = errno;
      if (err == EINTR) continue;
      // ECONNRESET only says the peer closed with our data unread. Reporting it cleared it;
      // the datagrams the peer sent before closing come next, then EOF.
      if (err == ECONNRESET && !reset_seen) {
        reset_seen = true;
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        // Hang-up with nothing left to read.
        if ((events & UV_DISCONNECT) != 0) End(env, 0, "");
        return;
      }
      End(env, err, "recvmsg");
      return;
    }

    const std::vector<int> fds = datagram.Fds();
    if (length == 0) {
      // EOF (or an empty datagram, which memif peers also read as a close).
      for (int fd : fds) ::close(fd);
      End(env, 0, "");
      return;
    }

    const std::size_t received = std::min(static_cast<std::size_t>(length), Datagram::Capacity());
    const bool truncated = static_cast<std::size_t>(length) > Datagram::Capacity() ||
                           (datagram.Flags() & (MSG_TRUNC | MSG_CTRUNC)) != 0;
    Napi::ArrayBuffer bytes = Napi::ArrayBuffer::New(env, received);
    std::memcpy(bytes.Data(), datagram.Data(), received);
    Napi::Array fd_list = Napi::Array::New(env, fds.size());
    for (std::size_t i = 0; i < fds.size(); ++i) {
      fd_list.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
    }
    CallResult result = Invoke(env, on_frame_.Value(), self,
                               {Napi::Uint8Array::New(env, received, bytes, 0), fd_list,
                                Napi::Boolean::New(env, truncated)});
    if (result == CallResult::kNotRun) {
      // Nobody took the fds; leave the rest queued for the teardown to drop with the socket.
      for (int fd : fds) ::close(fd);
      return;
    }
  }
}

void ControlChannel::End(Napi::Env env, int errnum, const char* syscall) {
  Napi::Object self = Value();
  Napi::Function on_close = on_close_.IsEmpty() ? Napi::Function() : on_close_.Value();
  Napi::Value reason =
      errnum == 0 ? env.Null()
                  : ErrnoError(env, errnum, syscall, "memif control channel failed").Value();
  Release();
  Invoke(env, on_close, self, {reason});
}

void ControlChannel::Release() noexcept {
  if (poller_ != nullptr) {
    poller_->Close();
    poller_ = nullptr;
  }
  if (fd_ >= 0) {
    DiscardUnread(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  ResetQuietly(on_frame_);
  ResetQuietly(on_close_);
  Unregister();
  Unpin();
}

}  // namespace rxmemif
