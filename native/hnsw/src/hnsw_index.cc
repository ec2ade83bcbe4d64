#include "hnsw_index.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <queue>
#include <stdexcept>
#include <utility>

#include "label_filter.h"

namespace recsys {
namespace {

std::string str(const char* a, const std::string& b) { return std::string(a) + b; }

uint32_t uintArg(Napi::Env env, const Napi::Value& v, const char* what, uint32_t min = 0) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, str(what, " must be a number"));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min) || d > 4294967295.0 || d != std::floor(d)) {
    throw Napi::RangeError::New(env, str(what, " must be an integer in [" + std::to_string(min) + ", 2^32), got ") + std::to_string(d));
  }
  return static_cast<uint32_t>(d);
}

template <typename T>
T typedArg(Napi::Env env, const Napi::Value& v, napi_typedarray_type type, const char* what, const char* typeName) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, str(what, " must be a ") + typeName);
  }
  return v.As<T>();
}

// Runs an hnswlib call, turning its std::exceptions into JavaScript errors that name the source.
template <typename F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "hnswlib: out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, str("hnswlib: ", e.what()));
  }
}

}  // namespace

void SaveChecked(hnswlib::HierarchicalNSW<float>& graph, const std::string& path) {
  // hnswlib's saveIndex does not check its stream: probe first and verify the size after.
  {
    std::ofstream probe(path, std::ios::binary | std::ios::trunc);
    if (!probe) throw std::runtime_error("cannot open file for writing");
  }
  graph.saveIndex(path);
  std::ifstream check(path, std::ios::binary | std::ios::ate);
  if (!check || static_cast<size_t>(check.tellg()) != graph.indexFileSize()) throw std::runtime_error("short write");
}

Napi::Function HnswIndex::Define(Napi::Env env) {
  return DefineClass(env, "HierarchicalNSW",
                     {
                         InstanceMethod("initIndex", &HnswIndex::InitIndex),
                         InstanceMethod("readIndex", &HnswIndex::ReadIndex),
                         InstanceMethod("readIndexSync", &HnswIndex::ReadIndexSync),
                         InstanceMethod("writeIndex", &HnswIndex::WriteIndex),
                         InstanceMethod("writeIndexSync", &HnswIndex::WriteIndexSync),
                         InstanceMethod("resizeIndex", &HnswIndex::ResizeIndex),
                         InstanceMethod("addPoint", &HnswIndex::AddPoint),
                         InstanceMethod("markDelete", &HnswIndex::MarkDelete),
                         InstanceMethod("unmarkDelete", &HnswIndex::UnmarkDelete),
                         InstanceMethod("isMarkedDeleted", &HnswIndex::IsMarkedDeleted),
                         InstanceMethod("searchKnn", &HnswIndex::SearchKnn),
                         InstanceMethod("getPoint", &HnswIndex::GetPoint),
                         InstanceMethod("getMaxElements", &HnswIndex::GetMaxElements),
                         InstanceMethod("getCurrentCount", &HnswIndex::GetCurrentCount),
                         InstanceMethod("getDeletedCount", &HnswIndex::GetDeletedCount),
                         InstanceMethod("getEf", &HnswIndex::GetEf),
                         InstanceMethod("setEf", &HnswIndex::SetEf),
                         InstanceMethod("getNumDimensions", &HnswIndex::GetNumDimensions),
                         InstanceMethod("getSpace", &HnswIndex::GetSpace),
                         InstanceMethod("getSearchPath", &HnswIndex::GetSearchPath),
                         InstanceMethod("setSearchPath", &HnswIndex::SetSearchPath),
                     });
}

HnswIndex::HnswIndex(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HnswIndex>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "space must be 'l2', 'ip' or 'cosine'");
  spaceName_ = info[0].As<Napi::String>().Utf8Value();
  dim_ = uintArg(env, info[1], "dim", 1);
  if (spaceName_ == "l2") {
    l2_ = true;
    space_.reset(new hnswlib::L2Space(dim_));
  } else if (spaceName_ == "ip" || spaceName_ == "cosine") {
    // cosine = inner product over vectors normalised on the way in (as Python hnswlib does).
    space_.reset(new hnswlib::InnerProductSpace(dim_));
    normalize_ = spaceName_ == "cosine";
  } else {
    throw Napi::TypeError::New(env, "space must be 'l2', 'ip' or 'cosine', got '" + spaceName_ + "'");
  }
  scratch_.resize(dim_);
  // RECSYS_HNSW_SEARCH=hnswlib sends every search through hnswlib's own searchKnn (a cross-check of fast_search.h).
  const char* path = std::getenv("RECSYS_HNSW_SEARCH");
  fastSearch_ = path == nullptr || std::string(path) != "hnswlib";
}

void HnswIndex::adoptLoaded(hnswlib::HierarchicalNSW<float>* loaded) { index_.reset(loaded); }

void HnswIndex::requireReadable(Napi::Env env) const {
  if (loading) throw Napi::Error::New(env, "index is being loaded (readIndex in progress)");
  if (!index_) throw Napi::Error::New(env, "index is not initialised: call initIndex or readIndex first");
}

void HnswIndex::requireWritable(Napi::Env env) const {
  requireReadable(env);
  if (savesInFlight > 0) throw Napi::Error::New(env, "index is being saved (writeIndex in progress): it cannot change until the save completes");
}

const float* HnswIndex::vectorArg(Napi::Env env, const Napi::Value& v, const char* what) {
  auto arr = typedArg<Napi::Float32Array>(env, v, napi_float32_array, what, "Float32Array");
  if (arr.ElementLength() != dim_) {
    throw Napi::RangeError::New(env, str(what, " has dimension " + std::to_string(arr.ElementLength()) + ", index has " + std::to_string(dim_)));
  }
  const float* p = arr.Data();
  for (uint32_t j = 0; j < dim_; j++) {
    if (!std::isfinite(p[j])) throw Napi::RangeError::New(env, "vector component " + std::to_string(j) + " is not a finite number");
  }
  if (!normalize_) return p;
  // Same normalisation as Python hnswlib: v / (|v| + 1e-30), so a zero vector stays zero.
  float s = 0.0f;
  for (uint32_t j = 0; j < dim_; j++) s += p[j] * p[j];
  const float inv = 1.0f / (std::sqrt(s) + 1e-30f);
  for (uint32_t j = 0; j < dim_; j++) scratch_[j] = p[j] * inv;
  return scratch_.data();
}

uint32_t HnswIndex::labelArg(Napi::Env env, const Napi::Value& v) const { return uintArg(env, v, "label"); }

Napi::Value HnswIndex::InitIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (loading || savesInFlight > 0) throw Napi::Error::New(env, "initIndex during a save or load");
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "initIndex expects { maxElements, m?, efConstruction?, randomSeed?, allowReplaceDeleted? }");
  Napi::Object o = info[0].As<Napi::Object>();
  const uint32_t maxElements = uintArg(env, o.Get("maxElements"), "maxElements");
  const uint32_t m = o.Has("m") ? uintArg(env, o.Get("m"), "m", 2) : 16;
  const uint32_t efc = o.Has("efConstruction") ? uintArg(env, o.Get("efConstruction"), "efConstruction", 1) : 200;
  const uint32_t seed = o.Has("randomSeed") ? uintArg(env, o.Get("randomSeed"), "randomSeed") : 100;
  const bool replace = o.Has("allowReplaceDeleted") && o.Get("allowReplaceDeleted").ToBoolean().Value();
  guarded(env, [&] {
    index_.reset(new hnswlib::HierarchicalNSW<float>(space_.get(), maxElements, m, efc, seed, replace));
  });
  return env.Undefined();
}

Napi::Value HnswIndex::ReadIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  if (loading || savesInFlight > 0) throw Napi::Error::New(env, "readIndex during a save or load");
  return QueueRead(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>().Utf8Value(), info[1].ToBoolean().Value());
}

Napi::Value HnswIndex::ReadIndexSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  if (loading || savesInFlight > 0) throw Napi::Error::New(env, "readIndexSync during a save or load");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const bool replace = info[1].ToBoolean().Value();
  guarded(env, [&] { index_.reset(new hnswlib::HierarchicalNSW<float>(space_.get(), path, false, 0, replace)); });
  return env.Undefined();
}

Napi::Value HnswIndex::WriteIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  requireReadable(env);
  return QueueWrite(env, this, info.This().As<Napi::Object>(), info[0].As<Napi::String>().Utf8Value());
}

Napi::Value HnswIndex::WriteIndexSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "path must be a string");
  requireReadable(env);
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  guarded(env, [&] {
    try {
      SaveChecked(*index_, path);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string(e.what()) + " (" + path + ")");
    }
  });
  return env.Undefined();
}

Napi::Value HnswIndex::ResizeIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWritable(env);
  const uint32_t n = uintArg(env, info[0], "maxElements");
  guarded(env, [&] { index_->resizeIndex(n); });
  return env.Undefined();
}

Napi::Value HnswIndex::AddPoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWritable(env);
  const float* v = vectorArg(env, info[0], "vector");
  const uint32_t label = labelArg(env, info[1]);
  const bool replaceDeleted = info[2].ToBoolean().Value();
  guarded(env, [&] { index_->addPoint(v, label, replaceDeleted); });
  return env.Undefined();
}

Napi::Value HnswIndex::MarkDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWritable(env);
  const uint32_t label = labelArg(env, info[0]);
  guarded(env, [&] { index_->markDelete(label); });
  return env.Undefined();
}

Napi::Value HnswIndex::UnmarkDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWritable(env);
  const uint32_t label = labelArg(env, info[0]);
  guarded(env, [&] { index_->unmarkDelete(label); });
  return env.Undefined();
}

Napi::Value HnswIndex::IsMarkedDeleted(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireReadable(env);
  const uint32_t label = labelArg(env, info[0]);
  auto it = index_->label_lookup_.find(label);
  return Napi::Boolean::New(env, it != index_->label_lookup_.end() && index_->isMarkedDeleted(it->second));
}

// searchKnn(query, k, outLabels, outDistances, filter?) -> count. Writes the count nearest
// admitted live labels and their distances, nearest first, into the output arrays.
Napi::Value HnswIndex::SearchKnn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireReadable(env);
  const float* q = vectorArg(env, info[0], "query");
  const uint32_t k = uintArg(env, info[1], "k");
  auto outLabels = typedArg<Napi::Uint32Array>(env, info[2], napi_uint32_array, "outLabels", "Uint32Array");
  auto outDists = typedArg<Napi::Float32Array>(env, info[3], napi_float32_array, "outDistances", "Float32Array");
  if (outLabels.ElementLength() < k || outDists.ElementLength() < k) {
    throw Napi::RangeError::New(env, "output arrays hold fewer than k = " + std::to_string(k) + " entries");
  }
  LabelFilter filter;
  bool filtered = false;
  if (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsNull()) {
    if (!info[4].IsObject()) throw Napi::TypeError::New(env, "filter must be an object { allowBits?, labelGroups?, allowedGroups?, excluded? }");
    Napi::Object f = info[4].As<Napi::Object>();
    Napi::Value bits = f.Get("allowBits");
    if (!bits.IsUndefined() && !bits.IsNull()) {
      auto a = typedArg<Napi::Uint8Array>(env, bits, napi_uint8_array, "filter.allowBits", "Uint8Array");
      filter.allowBits = a.Data();
      filter.allowBitsBytes = a.ElementLength();
      filter.useBits = true;
      filtered = true;
    }
    Napi::Value groups = f.Get("allowedGroups");
    if (!groups.IsUndefined() && !groups.IsNull()) {
      auto ag = typedArg<Napi::Uint8Array>(env, groups, napi_uint8_array, "filter.allowedGroups", "Uint8Array");
      auto lg = typedArg<Napi::Int32Array>(env, f.Get("labelGroups"), napi_int32_array, "filter.labelGroups (required with allowedGroups)", "Int32Array");
      filter.allowedGroups = ag.Data();
      filter.allowedGroupsLength = ag.ElementLength();
      filter.labelGroups = lg.Data();
      filter.labelGroupsLength = lg.ElementLength();
      filter.useGroups = true;
      filtered = true;
    }
    Napi::Value ex = f.Get("excluded");
    if (!ex.IsUndefined() && !ex.IsNull()) {
      auto e = typedArg<Napi::Uint32Array>(env, ex, napi_uint32_array, "filter.excluded", "Uint32Array");
      excluded_.assign(e.Data(), e.Data() + e.ElementLength());
      std::sort(excluded_.begin(), excluded_.end());
      filter.excluded = &excluded_;
      filtered = true;
    }
  }
  if (k == 0) return Napi::Number::New(env, 0);
  if (fastSearch_ && !filtered && index_->num_deleted_ == 0) {
    // The same walk as hnswlib's bare-bone search, without its per-query costs (fast_search.h).
    const size_t n = fast_.search(*index_, q, dim_, l2_, k, outLabels.Data(), outDists.Data());
    return Napi::Number::New(env, static_cast<double>(n));
  }
  auto top = guarded(env, [&] { return index_->searchKnn(q, k, filtered ? &filter : nullptr); });
  const size_t n = top.size();
  uint32_t* labels = outLabels.Data();
  float* dists = outDists.Data();
  for (size_t i = n; i-- > 0;) {  // the queue pops the farthest first
    dists[i] = top.top().first;
    labels[i] = static_cast<uint32_t>(top.top().second);
    top.pop();
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value HnswIndex::GetPoint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireReadable(env);
  const uint32_t label = labelArg(env, info[0]);
  auto out = typedArg<Napi::Float32Array>(env, info[1], napi_float32_array, "out", "Float32Array");
  if (out.ElementLength() < dim_) throw Napi::RangeError::New(env, "out holds fewer than dim = " + std::to_string(dim_) + " floats");
  auto it = index_->label_lookup_.find(label);
  if (it == index_->label_lookup_.end() || index_->isMarkedDeleted(it->second)) {
    throw Napi::RangeError::New(env, "label " + std::to_string(label) + " is not in the index");
  }
  std::memcpy(out.Data(), index_->getDataByInternalId(it->second), dim_ * sizeof(float));
  return env.Undefined();
}

Napi::Value HnswIndex::GetMaxElements(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), index_ ? static_cast<double>(index_->max_elements_) : 0);
}

Napi::Value HnswIndex::GetCurrentCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), index_ ? static_cast<double>(index_->cur_element_count) : 0);
}

Napi::Value HnswIndex::GetDeletedCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), index_ ? static_cast<double>(index_->num_deleted_) : 0);
}

Napi::Value HnswIndex::GetEf(const Napi::CallbackInfo& info) {
  requireReadable(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(index_->ef_));
}

Napi::Value HnswIndex::SetEf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireReadable(env);
  index_->setEf(uintArg(env, info[0], "ef", 1));
  return env.Undefined();
}

Napi::Value HnswIndex::GetNumDimensions(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), dim_); }

Napi::Value HnswIndex::GetSpace(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), spaceName_); }

Napi::Value HnswIndex::GetSearchPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), fastSearch_ ? "fast" : "hnswlib"); }

Napi::Value HnswIndex::SetSearchPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (path != "fast" && path != "hnswlib") throw Napi::TypeError::New(env, "search path must be 'fast' or 'hnswlib'");
  fastSearch_ = path == "fast";
  return env.Undefined();
}

}  // namespace recsys
