// Filtered search without a call into JavaScript per candidate: hnswlib asks this functor about
// every node its search would keep; the answer comes from typed arrays owned by JavaScript.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hnswlib/hnswlib.h"

namespace recsys {

struct LabelFilter : public hnswlib::BaseFilterFunctor {
  // Each part applies when its flag is set (a zero-length typed array may have a null data pointer,
  // and must still admit nothing).
  bool useBits = false;
  bool useGroups = false;
  // Bit l of allowBits (byte l >> 3, bit l & 7) must be set; a label past the end is refused.
  const uint8_t* allowBits = nullptr;
  size_t allowBitsBytes = 0;
  // labelGroups[l] is the group code of label l (negative: none); allowedGroups[code] != 0 admits it.
  const int32_t* labelGroups = nullptr;
  size_t labelGroupsLength = 0;
  const uint8_t* allowedGroups = nullptr;
  size_t allowedGroupsLength = 0;
  // Sorted ascending; never admitted. Points at a buffer the index reuses between queries.
  const std::vector<uint32_t>* excluded = nullptr;

  bool operator()(hnswlib::labeltype label) override {
    if (useBits) {
      const size_t byte = label >> 3;
      if (byte >= allowBitsBytes || ((allowBits[byte] >> (label & 7)) & 1) == 0) return false;
    }
    if (useGroups) {
      if (label >= labelGroupsLength) return false;
      const int32_t g = labelGroups[label];
      if (g < 0 || static_cast<size_t>(g) >= allowedGroupsLength || allowedGroups[g] == 0) return false;
    }
    if (excluded != nullptr && !excluded->empty()) {
      if (label > UINT32_MAX) return true;
      return !std::binary_search(excluded->begin(), excluded->end(), static_cast<uint32_t>(label));
    }
    return true;
  }
};

}  // namespace recsys
