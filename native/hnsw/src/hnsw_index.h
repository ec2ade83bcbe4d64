// N-API wrapper of hnswlib::HierarchicalNSW<float> that reads vectors straight out of
// Float32Arrays (no per-element conversion) and writes results into caller-owned typed arrays.
#pragma once

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fast_search.h"
#include "hnswlib/hnswlib.h"

namespace recsys {

class HnswIndex : public Napi::ObjectWrap<HnswIndex> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit HnswIndex(const Napi::CallbackInfo& info);

  // Used by the async file workers (io_workers.cc).
  hnswlib::SpaceInterface<float>* space() const { return space_.get(); }
  hnswlib::HierarchicalNSW<float>* graph() const { return index_.get(); }
  void adoptLoaded(hnswlib::HierarchicalNSW<float>* loaded);
  // A save is in flight: it reads the graph on a worker thread, so nothing may change it.
  int savesInFlight = 0;
  // A load is in flight: the graph is about to be replaced.
  bool loading = false;

 private:
  Napi::Value InitIndex(const Napi::CallbackInfo& info);
  Napi::Value ReadIndex(const Napi::CallbackInfo& info);
  Napi::Value ReadIndexSync(const Napi::CallbackInfo& info);
  Napi::Value WriteIndex(const Napi::CallbackInfo& info);
  Napi::Value WriteIndexSync(const Napi::CallbackInfo& info);
  Napi::Value ResizeIndex(const Napi::CallbackInfo& info);
  Napi::Value AddPoint(const Napi::CallbackInfo& info);
  Napi::Value MarkDelete(const Napi::CallbackInfo& info);
  Napi::Value UnmarkDelete(const Napi::CallbackInfo& info);
  Napi::Value IsMarkedDeleted(const Napi::CallbackInfo& info);
  Napi::Value SearchKnn(const Napi::CallbackInfo& info);
  Napi::Value GetPoint(const Napi::CallbackInfo& info);
  Napi::Value GetMaxElements(const Napi::CallbackInfo& info);
  Napi::Value GetCurrentCount(const Napi::CallbackInfo& info);
  Napi::Value GetDeletedCount(const Napi::CallbackInfo& info);
  Napi::Value GetEf(const Napi::CallbackInfo& info);
  Napi::Value SetEf(const Napi::CallbackInfo& info);
  Napi::Value GetNumDimensions(const Napi::CallbackInfo& info);
  Napi::Value GetSpace(const Napi::CallbackInfo& info);
  Napi::Value GetSearchPath(const Napi::CallbackInfo& info);
  Napi::Value SetSearchPath(const Napi::CallbackInfo& info);

  // Throws unless a graph exists and no load is in flight.
  void requireReadable(Napi::Env env) const;
  // requireReadable, and no save in flight.
  void requireWritable(Napi::Env env) const;
  // The vector in v as hnswlib should see it: the Float32Array's own memory, or (cosine) a
  // normalised copy in scratch_. Checks type, dimension and finiteness.
  const float* vectorArg(Napi::Env env, const Napi::Value& v, const char* what);
  uint32_t labelArg(Napi::Env env, const Napi::Value& v) const;

  std::string spaceName_;
  uint32_t dim_ = 0;
  bool normalize_ = false;
  bool l2_ = false;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
  std::vector<float> scratch_;
  std::vector<uint32_t> excluded_;
  // Unfiltered searches of a graph without deleted elements (fast_search.h).
  FastSearcher fast_;
  bool fastSearch_ = true;
};

// saveIndex that fails loudly: an unwritable path or a short write throws std::runtime_error.
void SaveChecked(hnswlib::HierarchicalNSW<float>& graph, const std::string& path);

// Promise-returning file operations (io_workers.cc).
Napi::Value QueueRead(Napi::Env env, HnswIndex* self, Napi::Object owner, const std::string& path, bool allowReplaceDeleted);
Napi::Value QueueWrite(Napi::Env env, HnswIndex* self, Napi::Object owner, const std::string& path);

}  // namespace recsys
