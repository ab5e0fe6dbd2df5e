#include "handle_registry.h"

#include <vector>

namespace rxmemif {

Registry::Registry(Napi::Env env) : env_(env) {
  if (napi_get_uv_event_loop(env, &loop_) != napi_ok) {
    throw Napi::Error::New(env, "rx-memif: no libuv loop in this environment");
  }
  // An async hook (not a plain cleanup hook) so teardown can wait for the uv_close() callbacks.
  // It also keeps the napi_env, and so this instance data, alive until it is removed.
  if (napi_add_async_cleanup_hook(env, OnTeardown, this, nullptr) != napi_ok) {
    throw Napi::Error::New(env, "rx-memif: cannot register the environment cleanup hook");
  }
}

Registry& Registry::From(Napi::Env env) {
  return *env.GetInstanceData<Registry>();
}

Registry* Registry::TryFrom(Napi::Env env) {
  return env.GetInstanceData<Registry>();
}

void Registry::Add(Closable* object) {
  live_.insert(object);
}

void Registry::Remove(Closable* object) {
  live_.erase(object);
}

void Registry::HandleClosed() {
  --closing_;
  FinishTeardownWhenIdle();
}

void Registry::OnTeardown(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* self = static_cast<Registry*>(arg);
  self->teardown_hook_ = hook;
  napi_handle_scope scope = nullptr;
  napi_open_handle_scope(self->env_, &scope);
  // Closing removes from live_, so walk a copy.
  std::vector<Closable*> live(self->live_.begin(), self->live_.end());
  for (Closable* object : live) object->CloseForTeardown();
  self->live_.clear();
  // No JS runs after this point; drop every reference now rather than in the instance-data
  // finalizer, which runs when the env's references may already be gone.
  self->errorFactory.Reset();
  self->listenerClass.Reset();
  self->channelClass.Reset();
  self->regionClass.Reset();
  self->eventFdClass.Reset();
  self->queueClass.Reset();
  if (scope != nullptr) napi_close_handle_scope(self->env_, scope);
  self->FinishTeardownWhenIdle();
}

void Registry::FinishTeardownWhenIdle() {
  if (teardown_hook_ == nullptr || closing_ != 0) return;
  napi_async_cleanup_hook_handle hook = teardown_hook_;
  teardown_hook_ = nullptr;
  napi_remove_async_cleanup_hook(hook);
}

}  // namespace rxmemif
