#include "unix_address.h"

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "errors.h"

namespace rxmemif {

UnixAddress ParseUnixAddress(Napi::Env env, const std::string& address, const char* syscall) {
  UnixAddress result;
  result.text = address;
  result.abstract = !address.empty() && address[0] == '@';
  const std::string name = result.abstract ? address.substr(1) : address;
  const std::string where = std::string(syscall) + "(" + address + ")";
  if (name.empty()) {
    Throw(env, EINVAL, syscall,
          where + ": " + (result.abstract ? "empty abstract name" : "empty socket path"));
  }
  if (name.find('\0') != std::string::npos) {
    Throw(env, EINVAL, syscall, where + ": socket address contains a NUL byte");
  }
  // sun_path is 108 bytes: a path needs its NUL, an abstract name its leading NUL.
  constexpr std::size_t kMaxName = sizeof(result.addr.sun_path) - 1;
  if (name.size() > kMaxName) {
    Throw(env, ENAMETOOLONG, syscall,
          where + ": socket address is " + std::to_string(name.size()) + " bytes, the limit is " +
              std::to_string(kMaxName));
  }
  result.addr.sun_family = AF_UNIX;
  if (result.abstract) {
    result.addr.sun_path[0] = '\0';
    std::memcpy(result.addr.sun_path + 1, name.data(), name.size());
    result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  } else {
    std::memcpy(result.addr.sun_path, name.data(), name.size());
    result.addr.sun_path[name.size()] = '\0';
    result.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    result.path = name;
  }
  return result;
}

}  // namespace rxmemif
