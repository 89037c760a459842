// Causal attention for ftgen's Llama model (kernel-lib/src/model/llama.ts, nativeAttention).
// Work is split over (batch row, kv head) pairs, one group of query heads each, so that threads
// never write the same dK/dV rows. BLAS runs single-threaded inside each worker.
#include "attention.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);

namespace {

// Runs body(item, worker) for item in [0, n) on `threads` workers, OpenBLAS held to one thread.
template <typename F>
void ParallelFor(int64_t n, int threads, F body) {
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(1);
  const int workers = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, n)));
  if (workers == 1) {
    for (int64_t i = 0; i < n; i++) body(i, 0);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; w++) {
      pool.emplace_back([&, w] {
        for (int64_t i = w; i < n; i += workers) body(i, w);
      });
    }
    for (auto& t : pool) t.join();
  }
  openblas_set_num_threads(before);
}

// Row-wise softmax of a (T, T) block in place, after adding the bias.
void BiasSoftmax(float* S, const float* bias, int64_t T) {
  for (int64_t t = 0; t < T; t++) {
    float* row = S + t * T;
    const float* br = bias + t * T;
    float mx = -FLT_MAX;
    for (int64_t s = 0; s < T; s++) {
      row[s] += br[s];
      mx = std::max(mx, row[s]);
    }
    // Masked scores (−1e9) would take libm's slow underflow path (errno): clamp, then zero them.
    float sum = 0;
    for (int64_t s = 0; s < T; s++) {
      const float x = row[s] - mx;
      const float e = std::exp(std::max(x, -87.f));
      row[s] = x < -87.f ? 0.f : e;
      sum += row[s];
    }
    const float inv = 1.0f / sum;
    for (int64_t s = 0; s < T; s++) row[s] *= inv;
  }
}

}  // namespace

void AttentionForward(const AttnDims& s, const float* q, const float* k, const float* v, const float* bias, float* out, float* P) {
  const int64_t T = s.T, d = s.d, g = s.H / s.KV, qld = s.H * d, kld = s.KV * d;
  ParallelFor(s.B * s.KV, s.threads, [&](int64_t item, int) {
    const int64_t b = item / s.KV, j = item % s.KV;
    const float* K = k + b * T * kld + j * d;  // (T, d), row stride kld
    const float* V = v + b * T * kld + j * d;
    const float* bb = bias + (s.biasRows == 1 ? 0 : b) * T * T;
    for (int64_t h = j * g; h < (j + 1) * g; h++) {
      const float* Q = q + b * T * qld + h * d;  // (T, d), row stride qld
      float* Pb = P + (b * s.H + h) * T * T;      // (T, T)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, Q, qld, K, kld, 0.f, Pb, T);  // scores
      BiasSoftmax(Pb, bb, T);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, Pb, T, V, kld, 0.f, out + b * T * qld + h * d, qld);
    }
  });
}

void AttentionBackward(const AttnDims& s, const float* dO, const float* q, const float* k, const float* v, const float* P,
                       float* dQ, float* dK, float* dV) {
  const int64_t T = s.T, d = s.d, g = s.H / s.KV, qld = s.H * d, kld = s.KV * d;
  // One (T, T) scratch per worker (allocated once: a fresh 256 KB block per item cost page faults).
  std::vector<std::vector<float>> scratch(std::max(1, s.threads), std::vector<float>(T * T));
  ParallelFor(s.B * s.KV, s.threads, [&](int64_t item, int worker) {
    const int64_t b = item / s.KV, j = item % s.KV;
    std::vector<float>& dS = scratch[worker];
    const float* K = k + b * T * kld + j * d;
    const float* V = v + b * T * kld + j * d;
    float* dKb = dK + b * T * kld + j * d;
    float* dVb = dV + b * T * kld + j * d;
    for (int64_t h = j * g; h < (j + 1) * g; h++) {
      const float* Q = q + b * T * qld + h * d;
      const float* dOb = dO + b * T * qld + h * d;
      const float* Pb = P + (b * s.H + h) * T * T;
      const float beta = h == j * g ? 0.f : 1.f;  // the group's first head overwrites, the rest add
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, dOb, qld, V, kld, 0.f, dS.data(), T);  // dP
      for (int64_t t = 0; t < T; t++) {
        float* row = dS.data() + t * T;
        const float* pr = Pb + t * T;
        float dot = 0;
        for (int64_t u = 0; u < T; u++) dot += row[u] * pr[u];
        for (int64_t u = 0; u < T; u++) row[u] = pr[u] * (row[u] - dot);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, dS.data(), T, K, kld, 0.f, dQ + b * T * qld + h * d, qld);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, dS.data(), T, Q, qld, beta, dKb, kld);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, Pb, T, dOb, qld, beta, dVb, kld);
    }
  });
}
