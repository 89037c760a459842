// Fused LM-head cross-entropy for ftgen's Llama model (llama.ts, lmHeadLoss's native path).
// Per chunk of rows: z = h·Wᵀ (tied) or h·W; p = softmax(z); loss −= log p[label];
// g = (p − onehot) / R overwrites z; dH = g·W (tied) or g·Wᵀ; dW += gᵀ·h (tied) or hᵀ·g.
// Only one (chunk, V) block of logits exists at a time, outside the wasm heap.
#include "lm_head.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

double LmHeadLoss(const LmHeadDims& s, const float* h, const float* w, const int32_t* labels, float* dH, float* dW) {
  const int64_t R = s.R, C = s.C, V = s.V;
  const int64_t chunk = std::max<int64_t>(1, std::min(s.chunk, R));
  std::vector<float> z(chunk * V);
  double total = 0;
  const float invR = 1.0f / static_cast<float>(R);
  for (int64_t r0 = 0; r0 < R; r0 += chunk) {
    const int64_t n = std::min(chunk, R - r0);
    const float* hc = h + r0 * C;
    if (s.tied) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, V, C, 1.f, hc, C, w, C, 0.f, z.data(), V);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, V, C, 1.f, hc, C, w, V, 0.f, z.data(), V);
    for (int64_t i = 0; i < n; i++) {
      float* row = z.data() + i * V;
      float mx = -FLT_MAX;
      for (int64_t v = 0; v < V; v++) mx = std::max(mx, row[v]);
      const int32_t y = labels[r0 + i];
      const float zy = row[y] - mx;
      float sum = 0;
      for (int64_t v = 0; v < V; v++) {
        row[v] = std::exp(std::max(row[v] - mx, -87.f));
        sum += row[v];
      }
      total += std::log(static_cast<double>(sum)) - zy;  // −log p[y] = log Σ exp(z − max) − (z[y] − max)
      if (dH) {
        const float scale = invR / sum;
        for (int64_t v = 0; v < V; v++) row[v] *= scale;
        row[y] -= invR;
      }
    }
    if (!dH) continue;
    const float beta = r0 == 0 ? 0.f : 1.f;
    if (s.tied) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, C, V, 1.f, z.data(), V, w, C, 0.f, dH + r0 * C, C);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, C, n, 1.f, z.data(), V, hc, C, beta, dW, C);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, C, V, 1.f, z.data(), V, w, V, 0.f, dH + r0 * C, C);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, V, n, 1.f, hc, C, z.data(), V, beta, dW, V);
    }
  }
  return total / static_cast<double>(R);
}
