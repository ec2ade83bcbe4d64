// readIndex / writeIndex on libuv's thread pool, so a large graph file does not stall the event
// loop. A load builds the new graph off-thread and swaps it in on the JS thread (OnOK); a save
// only reads the graph, and the index refuses changes until it completes (savesInFlight).
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "hnsw_index.h"

namespace recsys {
namespace {

// A file operation on one index that settles a promise. Holding a reference to the JavaScript
// object keeps it (and so self_) alive until the worker completes.
class FileWorker : public Napi::AsyncWorker {
 public:
  FileWorker(Napi::Env env, const char* name, HnswIndex* self, Napi::Object owner, std::string path)
      : Napi::AsyncWorker(env, name),
        self_(self),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(Napi::Persistent(owner)),
        path_(std::move(path)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(std::string("hnswlib: ") + e.what() + " (" + path_ + ")");
    }
  }

  void OnOK() override {
    Done(true);
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    Done(false);
    deferred_.Reject(e.Value());
  }

 protected:
  // Off the JS thread; throws on failure.
  virtual void Run() = 0;
  // Back on the JS thread, before the promise settles.
  virtual void Done(bool ok) = 0;

  HnswIndex* self_;
  const std::string& path() const { return path_; }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference owner_;
  std::string path_;
};

class ReadWorker : public FileWorker {
 public:
  ReadWorker(Napi::Env env, HnswIndex* self, Napi::Object owner, std::string path, bool replace)
      : FileWorker(env, "hnsw-native:readIndex", self, owner, std::move(path)), replace_(replace) {}

 protected:
  void Run() override { loaded_.reset(new hnswlib::HierarchicalNSW<float>(self_->space(), path(), false, 0, replace_)); }

  void Done(bool ok) override {
    self_->loading = false;
    if (ok) self_->adoptLoaded(loaded_.release());
  }

 private:
  bool replace_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> loaded_;
};

class WriteWorker : public FileWorker {
 public:
  WriteWorker(Napi::Env env, HnswIndex* self, Napi::Object owner, std::string path)
      : FileWorker(env, "hnsw-native:writeIndex", self, owner, std::move(path)) {}

 protected:
  void Run() override { SaveChecked(*self_->graph(), path()); }

  void Done(bool) override { self_->savesInFlight--; }
};

}  // namespace

Napi::Value QueueRead(Napi::Env env, HnswIndex* self, Napi::Object owner, const std::string& path, bool allowReplaceDeleted) {
  auto* w = new ReadWorker(env, self, owner, path, allowReplaceDeleted);
  self->loading = true;
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value QueueWrite(Napi::Env env, HnswIndex* self, Napi::Object owner, const std::string& path) {
  auto* w = new WriteWorker(env, self, owner, path);
  self->savesInFlight++;
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace recsys
