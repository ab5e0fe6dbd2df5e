#include <napi.h>
#include <unistd.h>

#include <cerrno>

#include "control_channel.h"
#include "control_listener.h"
#include "errors.h"
#include "event_fd.h"
#include "handle_registry.h"
#include "js_util.h"
#include "queue.h"
#include "region.h"
#include "ring.h"
#include "slab_pool.h"

namespace rxmemif {

namespace {

void SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Function factory = ArgFunction(info, 0, "setErrorFactory", "factory");
  Registry::From(info.Env()).errorFactory = Napi::Persistent(factory);
}

void CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgFd(info, 0, "closeFd");
  if (fd < 0) return;
  // EINTR: Linux has closed the fd anyway. EBADF: nothing to close.
  if (::close(fd) != 0 && errno != EBADF && errno != EINTR) {
    ThrowErrno(info.Env(), errno, "close", "close(" + std::to_string(fd) + ")");
  }
}

Napi::Value LiveHandles(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Registry::From(info.Env()).LiveCount()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* registry = new Registry(env);
  env.SetInstanceData<Registry>(registry);

  Napi::Function listener = ControlListener::DefineClass(env);
  Napi::Function channel = ControlChannel::DefineClass(env);
  Napi::Function region = Region::DefineClass(env);
  Napi::Function event_fd = EventFd::DefineClass(env);
  Napi::Function queue = Queue::DefineClass(env);
  registry->listenerClass = Napi::Persistent(listener);
  registry->channelClass = Napi::Persistent(channel);
  registry->regionClass = Napi::Persistent(region);
  registry->eventFdClass = Napi::Persistent(event_fd);
  registry->queueClass = Napi::Persistent(queue);

  const auto kReadOnly = napi_enumerable;
  exports.DefineProperties({
      Napi::PropertyDescriptor::Function(env, exports, "setErrorFactory", SetErrorFactory,
                                         kReadOnly),
      Napi::PropertyDescriptor::Value("cacheLineSize",
                                      Napi::Number::New(env, static_cast<double>(ring::kCacheLine)),
                                      kReadOnly),
      Napi::PropertyDescriptor::Value("ControlListener", listener, kReadOnly),
      Napi::PropertyDescriptor::Value("ControlChannel", channel, kReadOnly),
      Napi::PropertyDescriptor::Value("Region", region, kReadOnly),
      Napi::PropertyDescriptor::Value("EventFd", event_fd, kReadOnly),
      Napi::PropertyDescriptor::Value("Queue", queue, kReadOnly),
      Napi::PropertyDescriptor::Function(env, exports, "closeFd", CloseFd, kReadOnly),
      Napi::PropertyDescriptor::Function(env, exports, "liveHandles", LiveHandles, kReadOnly),
      Napi::PropertyDescriptor::Value("takeSlab", DefineTakeSlab(env), kReadOnly),
  });
  return exports;
}

}  // namespace

}  // namespace rxmemif

// NODE_API_MODULE pastes the name into an identifier: no qualified names.
static Napi::Object InitRxMemif(Napi::Env env, Napi::Object exports) {
  return rxmemif::Init(env, exports);
}

NODE_API_MODULE(rx_memif, InitRxMemif)
