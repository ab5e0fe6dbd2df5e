#include "region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "js_util.h"
#include "unique_fd.h"

namespace rxmemif {

namespace {

// Unmaps on every error path until released.
class Mapping {
 public:
  Mapping(void* base, std::size_t size) : base_(base), size_(size) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (base_ != nullptr) ::munmap(base_, size_);
  }
  void* Get() const { return base_; }
  void* Release() {
    void* base = base_;
    base_ = nullptr;
    return base;
  }

 private:
  void* base_;
  std::size_t size_;
};

}  // namespace

Napi::Function Region::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(env, "Region",
                                 {
                                     StaticMethod<&Region::Create>("create"),
                                     StaticMethod<&Region::Map>("map"),
                                     InstanceAccessor<&Region::GetFd>("fd"),
                                     InstanceAccessor<&Region::GetSize>("size"),
                                     InstanceAccessor<&Region::GetBuffer>("buffer"),
                                     InstanceAccessor<&Region::GetSeals>("seals"),
                                     InstanceAccessor("closed", &Region::GetClosed, nullptr),
                                     InstanceMethod<&Region::Close>("close"),
                                 });
}

Napi::Value Region::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ArgString(info, 0, "Region.create", "name");
  std::uint64_t size = ArgSize(info, 1, "Region.create");
  const std::string what = "memfd_create(" + name + ")";
  UniqueFd fd(::memfd_create(name.c_str(), MFD_ALLOW_SEALING | MFD_CLOEXEC));
  if (fd.Get() < 0) ThrowErrno(env, errno, "memfd_create", what);
  if (::ftruncate(fd.Get(), static_cast<off_t>(size)) != 0) {
    ThrowErrno(env, errno, "ftruncate", "ftruncate(" + name + ", " + std::to_string(size) + ")");
  }
  // The peer maps it too: a shrink would SIGBUS it.
  if (::fcntl(fd.Get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    ThrowErrno(env, errno, "fcntl", "fcntl(" + name + ", F_ADD_SEALS, F_SEAL_SHRINK)");
  }
  return Wrap(env, fd.Release(), static_cast<std::size_t>(size), name);
}

Napi::Value Region::Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int raw_fd = ArgFd(info, 0, "Region.map");
  if (raw_fd < 0) Throw(env, EBADF, "mmap", "Region.map: fd " + std::to_string(raw_fd));
  // Ownership passes now, whatever happens next.
  UniqueFd fd(raw_fd);
  std::uint64_t size = ArgSize(info, 1, "Region.map");
  struct stat st;
  if (::fstat(fd.Get(), &st) != 0) {
    ThrowErrno(env, errno, "fstat", "fstat(fd " + std::to_string(raw_fd) + ")");
  }
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) < size) {
    Throw(env, EPROTO, "fstat",
          "memif region fd is " + std::to_string(st.st_size) + " bytes, peer claims " +
              std::to_string(size));
  }
  return Wrap(env, fd.Release(), static_cast<std::size_t>(size), "fd " + std::to_string(raw_fd));
}

Napi::Object Region::Wrap(Napi::Env env, int raw_fd, std::size_t size, const std::string& what) {
  UniqueFd fd(raw_fd);
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.Get(), 0);
  if (base == MAP_FAILED) {
    ThrowErrno(env, errno, "mmap", "mmap(" + what + ", " + std::to_string(size) + " bytes)");
  }
  Mapping mapping(base, size);
  Napi::Object object = NewInstance(env, Registry::From(env).regionClass);
  Region* self = Unwrap(object);
  // No finalizer: the Region owns the mapping and detaches this buffer before unmapping it.
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(env, mapping.Get(), size);
  } catch (const Napi::Error& error) {
    Throw(env, EINVAL, "mmap",
          "cannot expose a " + std::to_string(size) + "-byte region to JS: " + error.Message());
  }
  self->buffer_ = Napi::Persistent(buffer);
  self->base_ = mapping.Release();
  self->size_ = size;
  self->fd_ = fd.Release();
  self->Register();
  return object;
}

Napi::Value Region::GetFd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

Napi::Value Region::GetSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(size_));
}

Napi::Value Region::GetBuffer(const Napi::CallbackInfo& info) {
  if (buffer_.IsEmpty()) return Napi::ArrayBuffer::New(info.Env(), 0);
  return buffer_.Value();
}

Napi::Value Region::GetSeals(const Napi::CallbackInfo& info) {
  int seals = fd_ >= 0 ? ::fcntl(fd_, F_GET_SEALS) : -1;
  return Napi::Number::New(info.Env(), seals < 0 ? -1 : seals);
}

void Region::Close(const Napi::CallbackInfo&) {
  Release();
}

void Region::Finalize(Napi::Env) {
  Release();
}

void Region::CloseForTeardown() noexcept {
  Release();
  ResetQuietly(buffer_);
}

void Region::Release() noexcept {
  if (base_ != nullptr) {
    // Detach first: afterwards no JS view can reach the memory about to be unmapped.
    if (!buffer_.IsEmpty()) {
      napi_env env = buffer_.Env();
      napi_handle_scope scope = nullptr;
      napi_open_handle_scope(env, &scope);
      napi_value buffer = nullptr;
      if (napi_get_reference_value(env, buffer_, &buffer) == napi_ok && buffer != nullptr) {
        napi_detach_arraybuffer(env, buffer);
      }
      if (scope != nullptr) napi_close_handle_scope(env, scope);
    }
    ::munmap(base_, size_);
    base_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  Unregister();
}

}  // namespace rxmemif
