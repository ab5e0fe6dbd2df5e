#pragma once

#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <string>

namespace rxmemif {

// An AF_UNIX address: a filesystem path, or "@name" for the abstract name "\0name".
struct UnixAddress {
  sockaddr_un addr{};
  // Exact length: abstract names have no trailing NUL, and peers match on every byte.
  socklen_t length = 0;
  bool abstract = false;
  std::string text;  // as given, for messages
  std::string path;  // the filesystem path; empty for abstract names
};

// Throws EINVAL (empty, embedded NUL) or ENAMETOOLONG (over 107 bytes) naming `syscall`.
UnixAddress ParseUnixAddress(Napi::Env env, const std::string& address, const char* syscall);

}  // namespace rxmemif
