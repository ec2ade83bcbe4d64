// Unfiltered k-NN search over an hnswlib graph, without hnswlib's per-query costs.
//
// It walks the same graph the same way as HierarchicalNSW::searchKnn in its "bare bone" mode (no
// deleted elements, no filter): greedy descent through the upper levels, then the ef-bounded best-
// first search of level 0 with the same stop rule, so it visits the same nodes and returns the same
// neighbours (distances may differ in the last bit: the kernels below use fused multiply-add).
// What it does differently:
//  - distances are computed by kernels inlined into the search loop (AVX-512 / AVX2+FMA, one
//    horizontal reduction per vector) instead of hnswlib's function pointer per distance with a
//    store-and-add reduction;
//  - a node's unvisited neighbours are collected first and their vectors prefetched several
//    nodes ahead of the distance loop (hnswlib prefetches one neighbour ahead), which overlaps the
//    cache misses of a large graph;
//  - the visited marks (uint16 epochs, as hnswlib) and both heaps are owned by the searcher and
//    reused, so a query allocates nothing and takes no lock;
//  - no atomic metric counters.
// Filtered searches and graphs with deleted elements go through hnswlib's own searchKnn.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "hnswlib/hnswlib.h"

namespace recsys {

#if defined(__AVX512F__)
inline float L2Sq(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    s0 = _mm512_fmadd_ps(d0, d0, s0);
    s1 = _mm512_fmadd_ps(d1, d1, s1);
  }
  for (; i + 16 <= dim; i += 16) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < dim) {
    const __mmask16 m = static_cast<__mmask16>((1u << (dim - i)) - 1);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    s1 = _mm512_fmadd_ps(d, d, s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

inline float Dot(const float* a, const float* b, size_t dim) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= dim; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < dim) {
    const __mmask16 m = static_cast<__mmask16>((1u << (dim - i)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
#define RECSYS_FAST_SIMD "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
inline float Hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float L2Sq(const float* a, const float* b, size_t dim) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    s0 = _mm256_fmadd_ps(d0, d0, s0);
    s1 = _mm256_fmadd_ps(d1, d1, s1);
  }
  for (; i + 8 <= dim; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(d, d, s0);
  }
  float r = Hsum256(_mm256_add_ps(s0, s1));
  for (; i < dim; i++) {
    const float d = a[i] - b[i];
    r += d * d;
  }
  return r;
}

inline float Dot(const float* a, const float* b, size_t dim) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= dim; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float r = Hsum256(_mm256_add_ps(s0, s1));
  for (; i < dim; i++) r += a[i] * b[i];
  return r;
}
#define RECSYS_FAST_SIMD "avx2"
#else
inline float L2Sq(const float* a, const float* b, size_t dim) {
  float r = 0.0f;
  for (size_t i = 0; i < dim; i++) {
    const float d = a[i] - b[i];
    r += d * d;
  }
  return r;
}

inline float Dot(const float* a, const float* b, size_t dim) {
  float r = 0.0f;
  for (size_t i = 0; i < dim; i++) r += a[i] * b[i];
  return r;
}
#define RECSYS_FAST_SIMD "scalar"
#endif

// Every cache line of the `bytes` bytes at p (a vector rarely starts on a line boundary: hnswlib's
// element stride is not a multiple of 64).
inline void PrefetchVector(const char* p, size_t bytes) {
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) & ~static_cast<uintptr_t>(63);
  const uintptr_t last = reinterpret_cast<uintptr_t>(p) + bytes - 1;
  for (uintptr_t a = first; a <= last; a += 64) _mm_prefetch(reinterpret_cast<const char*>(a), _MM_HINT_T0);
}

class FastSearcher {
 public:
  using Graph = hnswlib::HierarchicalNSW<float>;
  using Entry = std::pair<float, hnswlib::tableint>;

  // Writes up to k nearest labels and distances (nearest first); returns how many. l2: squared
  // euclidean; otherwise 1 - dot (hnswlib's InnerProductSpace). The graph must have no deleted
  // elements (bare-bone search), which the caller checks.
  size_t search(const Graph& g, const float* q, size_t dim, bool l2, size_t k, uint32_t* outLabels, float* outDists) {
    if (g.cur_element_count == 0 || k == 0) return 0;
    const size_t ef = std::max(g.ef_, k);
    const char* base = g.data_level0_memory_;
    const size_t stride = g.size_data_per_element_;
    const size_t offData = g.offsetData_;
    const size_t offLinks = g.offsetLevel0_;
    // Bytes prefetched per neighbour: the whole vector, up to 9 lines (longer vectors stream in
    // behind the first lines through the hardware prefetcher).
    const size_t prefetchBytes = std::min<size_t>(dim * sizeof(float), 512);
    auto vec = [&](hnswlib::tableint id) { return reinterpret_cast<const float*>(base + id * stride + offData); };
    auto dist = [&](hnswlib::tableint id) { return l2 ? L2Sq(q, vec(id), dim) : 1.0f - Dot(q, vec(id), dim); };

    // Greedy descent through the upper levels (hnswlib's searchKnn loop).
    hnswlib::tableint cur = g.enterpoint_node_;
    float curDist = dist(cur);
    for (int level = g.maxlevel_; level > 0; level--) {
      bool changed = true;
      while (changed) {
        changed = false;
        const unsigned int* data = reinterpret_cast<const unsigned int*>(g.linkLists_[cur] + (level - 1) * g.size_links_per_element_);
        const int size = static_cast<unsigned short>(*data);
        const hnswlib::tableint* nb = data + 1;
        for (int i = 0; i < size; i++) {
          if (i + 1 < size) _mm_prefetch(base + nb[i + 1] * stride + offData, _MM_HINT_T0);
          const float d = dist(nb[i]);
          if (d < curDist) {
            curDist = d;
            cur = nb[i];
            changed = true;
          }
        }
      }
    }

    // Level 0: ef-bounded best-first search (hnswlib's searchBaseLayerST<bare_bone_search = true>).
    const size_t n = g.max_elements_;
    if (visited_.size() < n) {
      visited_.assign(n, 0);
      tag_ = 0;
    }
    if (++tag_ == 0) {
      std::fill(visited_.begin(), visited_.end(), 0);
      tag_ = 1;
    }
    uint16_t* visited = visited_.data();
    const uint16_t tag = tag_;
    top_.clear();
    cand_.clear();
    const auto farther = [](const Entry& a, const Entry& b) { return a.first < b.first; };  // max-heap: farthest on top
    const auto nearer = [](const Entry& a, const Entry& b) { return a.first > b.first; };   // min-heap: nearest on top
    top_.emplace_back(curDist, cur);
    cand_.emplace_back(curDist, cur);
    visited[cur] = tag;
    float lowerBound = curDist;
    if (fresh_.size() < g.maxM0_ + 1) fresh_.resize(g.maxM0_ + 1);
    hnswlib::tableint* fresh = fresh_.data();

    while (!cand_.empty()) {
      const Entry c = cand_.front();
      if (c.first > lowerBound) break;
      std::pop_heap(cand_.begin(), cand_.end(), nearer);
      cand_.pop_back();
      const unsigned int* data = reinterpret_cast<const unsigned int*>(base + c.second * stride + offLinks);
      const size_t size = static_cast<unsigned short>(*data);
      const hnswlib::tableint* nb = data + 1;
      // Unvisited neighbours first, then their vectors, prefetched ahead of the distance loop.
      size_t m = 0;
      for (size_t j = 0; j < size; j++) {
        const hnswlib::tableint id = nb[j];
        if (visited[id] != tag) {
          visited[id] = tag;
          fresh[m++] = id;
        }
      }
      const size_t ahead = std::min<size_t>(m, kPrefetchAhead);
      for (size_t j = 0; j < ahead; j++) PrefetchVector(base + fresh[j] * stride + offData, prefetchBytes);
      for (size_t j = 0; j < m; j++) {
        if (j + ahead < m) PrefetchVector(base + fresh[j + ahead] * stride + offData, prefetchBytes);
        const hnswlib::tableint id = fresh[j];
        const float d = dist(id);
        if (top_.size() < ef || d < lowerBound) {
          cand_.emplace_back(d, id);
          std::push_heap(cand_.begin(), cand_.end(), nearer);
          top_.emplace_back(d, id);
          std::push_heap(top_.begin(), top_.end(), farther);
          if (top_.size() > ef) {
            std::pop_heap(top_.begin(), top_.end(), farther);
            top_.pop_back();
          }
          lowerBound = top_.front().first;
        }
      }
      if (!cand_.empty()) _mm_prefetch(base + cand_.front().second * stride + offLinks, _MM_HINT_T0);
    }

    // The k nearest, nearest first.
    std::sort_heap(top_.begin(), top_.end(), farther);  // ascending distance
    const size_t out = std::min(k, top_.size());
    for (size_t i = 0; i < out; i++) {
      outDists[i] = top_[i].first;
      outLabels[i] = static_cast<uint32_t>(g.getExternalLabel(top_[i].second));
    }
    return out;
  }

 private:
  static constexpr size_t kPrefetchAhead = 4;
  std::vector<uint16_t> visited_;
  uint16_t tag_ = 0;
  std::vector<Entry> top_;
  std::vector<Entry> cand_;
  std::vector<hnswlib::tableint> fresh_;
};

}  // namespace recsys
