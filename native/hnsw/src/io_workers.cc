// readIndex / writeIndex on libuv's thread pool, so a large graph file does not stall the event
// loop. A load builds the new graph off-thread and swaps it in on the JS thread (OnOK); a save
// only reads the graph, and the index refuses changes until it completes (savesInFlight).
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "hnsw_index.h"

namespace recsys {
namespace {

class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, HnswIndex* self, Napi::Object owner, std::string path, bool replace)
      : Napi::AsyncWorker(env, "hnsw-native:readIndex"),
        deferred_(Napi::Promise::Deferred::New(env)),
        self_(self),
        owner_(Napi::Persistent(owner)),
        path_(std::move(path)),
        replace_(replace) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      loaded_.reset(new hnswlib::HierarchicalNSW<float>(self_->space(), path_, false, 0, replace_));
    } catch (const std::exception& e) {
      SetError(std::string("hnswlib: ") + e.what() + " (" + path_ + ")");
    }
  }

  void OnOK() override {
    self_->loading = false;
    self_->adoptLoaded(loaded_.release());
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    self_->loading = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  HnswIndex* self_;
  // Keeps the JavaScript object, and so self_, alive until the worker completes.
  Napi::ObjectReference owner_;
  std::string path_;
  bool replace_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> loaded_;
};

class WriteWorker : public Napi::AsyncWorker {
 public:
  WriteWorker(Napi::Env env, HnswIndex* self, Napi::Object owner, std::string path)
      : Napi::AsyncWorker(env, "hnsw-native:writeIndex"),
        deferred_(Napi::Promise::Deferred::New(env)),
        self_(self),
        owner_(Napi::Persistent(owner)),
        path_(std::move(path)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      auto* g = self_->graph();
      // hnswlib's saveIndex does not check its stream: probe first and verify the size after.
      {
        std::ofstream probe(path_, std::ios::binary | std::ios::trunc);
        if (!probe) throw std::runtime_error("cannot open file for writing");
      }
      g->saveIndex(path_);
      std::ifstream check(path_, std::ios::binary | std::ios::ate);
      if (!check || static_cast<size_t>(check.tellg()) != g->indexFileSize()) throw std::runtime_error("short write");
    } catch (const std::exception& e) {
      SetError(std::string("hnswlib: ") + e.what() + " (" + path_ + ")");
    }
  }

  void OnOK() override {
    self_->savesInFlight--;
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    self_->savesInFlight--;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  HnswIndex* self_;
  Napi::ObjectReference owner_;
  std::string path_;
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
