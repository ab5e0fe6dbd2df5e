#pragma once

#include <napi.h>

#include <string>

namespace rxmemif {

// "EADDRINUSE" for EADDRINUSE; "EUNKNOWN" when the C library has no name for it.
const char* ErrnoName(int errnum);

// strerror() with a lower-case first letter, to sit after "syscall(subject): ".
std::string Describe(int errnum);

// Builds the error the addon throws, through the JS factory once one is registered. `code` is the
// errno name of `errnum`.
Napi::Error MakeError(Napi::Env env, const std::string& message, int errnum,
                      const std::string& syscall);

// An error for a failed syscall: "<what>: <strerror> (<CODE>)".
Napi::Error ErrnoError(Napi::Env env, int errnum, const std::string& syscall,
                       const std::string& what);

[[noreturn]] inline void Throw(Napi::Env env, int errnum, const std::string& syscall,
                               const std::string& message) {
  throw MakeError(env, message, errnum, syscall);
}

[[noreturn]] inline void ThrowErrno(Napi::Env env, int errnum, const std::string& syscall,
                                    const std::string& what) {
  throw ErrnoError(env, errnum, syscall, what);
}

}  // namespace rxmemif
