#include "region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"
#include "js_util.h"
#include "share_table.h"
#include "unique_fd.h"

namespace rxmemif {

SharedMapping::~SharedMapping() {
  ::munmap(base_, size_);
}

Napi::Function Region::DefineClass(Napi::Env env) {
  return ObjectWrap::DefineClass(env, "Region",
                                 {
                                     StaticMethod<&Region::Create>("create"),
                                     StaticMethod<&Region::Map>("map"),
                                     StaticMethod<&Region::Attach>("attach"),
                                     InstanceAccessor<&Region::GetFd>("fd"),
                                     InstanceAccessor<&Region::GetSize>("size"),
                                     InstanceAccessor<&Region::GetBuffer>("buffer"),
                                     InstanceAccessor<&Region::GetSeals>("seals"),
                                     InstanceAccessor("closed", &Region::GetClosed, nullptr),
                                     InstanceMethod<&Region::Share>("share"),
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
  std::shared_ptr<SharedMapping> mapping;
  try {
    mapping = std::make_shared<SharedMapping>(base, size);
  } catch (...) {
    ::munmap(base, size);
    throw;
  }
  // From here the mapping unmaps itself on every error path.
  return WrapMapping(env, std::move(mapping), fd.Release(), 0);
}

Napi::Object Region::WrapMapping(Napi::Env env, std::shared_ptr<SharedMapping> mapping, int raw_fd,
                                 std::uint64_t token) {
  UniqueFd fd(raw_fd);
  const std::size_t size = mapping->Size();
  Napi::Object object = NewInstance(env, Registry::From(env).regionClass);
  Region* self = Unwrap(object);
  // No finalizer: the Region detaches this buffer before letting go of the mapping. Another
  // environment's attachment has its own buffer over the same memory, detached by its own Region.
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(env, mapping->Base(), size);
  } catch (const Napi::Error& error) {
    Throw(env, EINVAL, "mmap",
          "cannot expose a " + std::to_string(size) + "-byte region to JS: " + error.Message());
  }
  self->buffer_ = Napi::Persistent(buffer);
  self->base_ = mapping->Base();
  self->size_ = size;
  self->mapping_ = std::move(mapping);
  self->owner_ = token == 0;
  self->token_ = token;
  self->fd_ = fd.Release();
  self->Register();
  return object;
}

Napi::Value Region::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t token = ArgToken(info, 0, "Region.attach");
  std::shared_ptr<SharedMapping> mapping = ShareTable<SharedMapping>::Get().Find(token);
  if (mapping == nullptr) {
    Throw(env, ENOENT, "",
          "Region.attach(" + std::to_string(token) +
              "): no open region is shared under this token (never shared, or its owner closed)");
  }
  return WrapMapping(env, std::move(mapping), -1, token);
}

Napi::Value Region::Share(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsOpen()) Throw(env, EBADF, "", "Region.share: the region is closed");
  if (token_ == 0) {
    const std::uint64_t token = NextShareToken();
    ShareTable<SharedMapping>::Get().Add(token, mapping_);
    token_ = token;
  }
  return Napi::Number::New(env, static_cast<double>(token_));
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
  // First: no new attachment from now on (those already made keep the mapping alive).
  if (owner_ && token_ != 0 && mapping_ != nullptr) ShareTable<SharedMapping>::Get().Remove(token_);
  if (base_ != nullptr) {
    // Detach first: afterwards no JS view of this environment can reach the memory, which is
    // unmapped below if this was the last holder.
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
    base_ = nullptr;
  }
  mapping_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  Unregister();
}

}  // namespace rxmemif
