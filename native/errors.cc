#include "errors.h"

#include <string.h>
#include <uv.h>

#include <cctype>

#include "handle_registry.h"

namespace rxmemif {

namespace {

// strerror_r is the GNU variant on glibc and the XSI one elsewhere.
[[maybe_unused]] const char* PickMessage(int result, const char* buffer) {
  return result == 0 ? buffer : "unknown error";
}
[[maybe_unused]] const char* PickMessage(const char* result, const char*) {
  return result;
}

}  // namespace

const char* ErrnoName(int errnum) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(errnum);
  if (name != nullptr) return name;
#endif
  // libuv knows the common ones and is the fallback on other C libraries.
  const char* uv_name = uv_err_name(-errnum);
  if (uv_name != nullptr && uv_name[0] == 'E') return uv_name;
  return "EUNKNOWN";
}

std::string Describe(int errnum) {
  char buffer[256];
  std::string text = PickMessage(strerror_r(errnum, buffer, sizeof buffer), buffer);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Napi::Error MakeError(Napi::Env env, const std::string& message, int errnum,
                      const std::string& syscall) {
  const char* code = ErrnoName(errnum);
  Registry* registry = Registry::TryFrom(env);
  if (registry != nullptr && !registry->errorFactory.IsEmpty()) {
    try {
      Napi::Value error = registry->errorFactory.Call(
          {Napi::String::New(env, message), Napi::String::New(env, code),
           Napi::Number::New(env, errnum), Napi::String::New(env, syscall)});
      if (error.IsObject()) return Napi::Error(env, error);
    } catch (const Napi::Error&) {
      // A broken factory must not hide the real failure: fall through to a plain Error.
    }
  }
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("code", Napi::String::New(env, code));
  object.Set("errno", Napi::Number::New(env, errnum));
  object.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

Napi::Error ErrnoError(Napi::Env env, int errnum, const std::string& syscall,
                       const std::string& what) {
  return MakeError(env, what + ": " + Describe(errnum) + " (" + ErrnoName(errnum) + ")", errnum,
                   syscall);
}

}  // namespace rxmemif
