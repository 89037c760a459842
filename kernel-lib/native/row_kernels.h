// Row-wise helpers shared by the inference runtime (llm.cc) and the trainer (trainer.cc): pieces of
// rows on the thread pool, rotary embeddings, per-worker scratch that only grows.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "pool.h"

// Runs fn(r0, r1) over [0, n) in fixed pieces of at least `minRows`, on the pool (the split
// depends only on n and the pool's size, so results are the same from run to run).
template <typename F>
void ForRows(ThreadPool& pool, int64_t n, int64_t minRows, F fn) {
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(pool.size() * 4, n / std::max<int64_t>(1, minRows)));
  const int64_t per = (n + pieces - 1) / pieces;
  pool.Run(pieces, [&](int64_t p, int) {
    const int64_t r0 = p * per, r1 = std::min(n, r0 + per);
    if (r0 < r1) fn(r0, r1);
  });
}

// `heads` vectors of width d rotated in place: y[i] = x[i]·cos[i] + x[swap(i)]·sin[i] (llama.ts'
// rotate; sin is signed), summed in double as llama.ts does.
inline void Rope(float* x, const float* cos, const float* sin, int64_t heads, int64_t d) {
  const int64_t half = d / 2;
  float tmp[512];
  for (int64_t h = 0; h < heads; h++) {
    float* v = x + h * d;
    for (int64_t i = 0; i < d; i++) {
      const int64_t j = i < half ? i + half : i - half;
      tmp[i] = static_cast<float>(static_cast<double>(v[i]) * cos[i] + static_cast<double>(v[j]) * sin[i]);
    }
    std::memcpy(v, tmp, d * sizeof(float));
  }
}

// A scratch buffer of at least n floats (grown on demand, kept between calls).
inline float* Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}
