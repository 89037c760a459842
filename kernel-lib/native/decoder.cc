// KV-cached Llama inference (see decoder.h). The same computation as llama.ts' hidden2d + logits
// with a cache: RMSNorm, q/k/v projections, rotary embeddings from the caller's tables, causal
// attention over cache + new keys with −1e9 on masked keys, SwiGLU MLP, final norm and head.
// Small GEMMs and GEMVs from OpenBLAS; per token at batch 1 this is ~1.5M multiply-adds for the
// bench config, where tfjs spends its time in ~150 op dispatches instead.
#include "decoder.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace {

constexpr float kMasked = -1e9f;

// y (n, m) = x (n, k) · W (k, m), row-major.
void MatMul(const float* x, const float* W, float* y, int64_t n, int64_t k, int64_t m) {
  if (n == 1) cblas_sgemv(CblasRowMajor, CblasTrans, k, m, 1.f, W, m, x, 1, 0.f, y, 1);
  else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, m, k, 1.f, x, k, W, m, 0.f, y, m);
}

// out (n, C) = x · rsqrt(mean(x²) + eps) · w
void RmsNorm(const float* x, const float* w, float* out, int64_t n, int64_t C, float eps) {
  for (int64_t r = 0; r < n; r++) {
    const float* xr = x + r * C;
    float ss = 0;
    for (int64_t i = 0; i < C; i++) ss += xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
    for (int64_t i = 0; i < C; i++) out[r * C + i] = xr[i] * inv * w[i];
  }
}

// x (n, heads·d) rotated in place: x[i]·cos[i] + x[swap(i)]·sin[i] per head (llama.ts' rotate).
void Rope(float* x, const float* cos, const float* sin, int64_t n, int64_t heads, int64_t d) {
  const int64_t half = d / 2;
  std::vector<float> tmp(d);
  for (int64_t r = 0; r < n; r++) {
    for (int64_t h = 0; h < heads; h++) {
      float* v = x + (r * heads + h) * d;
      for (int64_t i = 0; i < d; i++) {
        const int64_t j = i < half ? i + half : i - half;
        tmp[i] = static_cast<float>(static_cast<double>(v[i]) * cos[r * d + i] + static_cast<double>(v[j]) * sin[r * d + i]);
      }
      std::copy(tmp.begin(), tmp.end(), v);
    }
  }
}

}  // namespace

Decoder::Decoder(const DecoderConfig& cfg, DecoderWeights w, int64_t batch, int64_t capacity)
    : c_(cfg), w_(std::move(w)), B_(batch), cap_(capacity), K_(cfg.L), V_(cfg.L), mask_(batch * capacity, 0) {
  for (int64_t l = 0; l < c_.L; l++) {
    K_[l].assign(B_ * cap_ * c_.KV * c_.d, 0.f);
    V_[l].assign(B_ * cap_ * c_.KV * c_.d, 0.f);
  }
}

bool Decoder::Step(int64_t T, const int32_t* ids, const int32_t* mask, const float* qCos, const float* qSin, const float* kCos,
                   const float* kSin, float* logits) {
  const int64_t B = B_, C = c_.C, F = c_.F, H = c_.H, KV = c_.KV, d = c_.d, N = B * T, past = len_, S = past + T;
  if (S > cap_) return false;
  const int64_t qd = H * d, kd = KV * d, g = H / KV;
  std::vector<float> x(N * C), h(N * C), q(N * qd), k(N * kd), v(N * kd), att(N * qd), a(N * C), gt(N * F), up(N * F), sc(T * S);
  for (int64_t r = 0; r < N; r++) std::copy_n(w_.embed.data() + static_cast<int64_t>(ids[r]) * C, C, x.data() + r * C);
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++) mask_[b * cap_ + past + t] = mask[b * T + t];
  for (int64_t l = 0; l < c_.L; l++) {
    const auto& W = w_.layers[l];
    RmsNorm(x.data(), W.ln1.data(), h.data(), N, C, c_.eps);
    MatMul(h.data(), W.wq.data(), q.data(), N, C, qd);
    MatMul(h.data(), W.wk.data(), k.data(), N, C, kd);
    MatMul(h.data(), W.wv.data(), v.data(), N, C, kd);
    Rope(q.data(), qCos, qSin, N, H, d);
    Rope(k.data(), kCos, kSin, N, KV, d);
    float* Kc = K_[l].data();
    float* Vc = V_[l].data();
    for (int64_t b = 0; b < B; b++) {
      std::copy_n(k.data() + b * T * kd, T * kd, Kc + (b * cap_ + past) * kd);
      std::copy_n(v.data() + b * T * kd, T * kd, Vc + (b * cap_ + past) * kd);
    }
    for (int64_t b = 0; b < B; b++) {
      const int32_t* m = mask_.data() + b * cap_;
      for (int64_t hh = 0; hh < H; hh++) {
        const int64_t j = hh / g;
        const float* Q = q.data() + b * T * qd + hh * d;  // (T, d), stride qd
        const float* Kb = Kc + b * cap_ * kd + j * d;       // (S, d), stride kd
        const float* Vb = Vc + b * cap_ * kd + j * d;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, S, d, 1.f, Q, qd, Kb, kd, 0.f, sc.data(), S);
        for (int64_t t = 0; t < T; t++) {
          float* row = sc.data() + t * S;
          float mx = -FLT_MAX;
          for (int64_t s = 0; s < S; s++) {
            if (s > past + t || m[s] == 0) row[s] += kMasked;
            mx = std::max(mx, row[s]);
          }
          float sum = 0;
          for (int64_t s = 0; s < S; s++) {
            const float e = row[s] - mx;
            row[s] = e < -87.f ? 0.f : std::exp(e);
            sum += row[s];
          }
          const float inv = 1.0f / sum;
          for (int64_t s = 0; s < S; s++) row[s] *= inv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, S, 1.f, sc.data(), S, Vb, kd, 0.f, att.data() + b * T * qd + hh * d, qd);
      }
    }
    MatMul(att.data(), W.wo.data(), a.data(), N, qd, C);
    for (int64_t i = 0; i < N * C; i++) x[i] += a[i];
    RmsNorm(x.data(), W.ln2.data(), h.data(), N, C, c_.eps);
    MatMul(h.data(), W.wg.data(), gt.data(), N, C, F);
    MatMul(h.data(), W.wu.data(), up.data(), N, C, F);
    for (int64_t i = 0; i < N * F; i++) gt[i] = gt[i] / (1.f + std::exp(-gt[i])) * up[i];
    MatMul(gt.data(), W.wd.data(), a.data(), N, F, C);
    for (int64_t i = 0; i < N * C; i++) x[i] += a[i];
  }
  // The last new token of each row, normed, through the head.
  std::vector<float> last(B * C);
  for (int64_t b = 0; b < B; b++) RmsNorm(x.data() + (b * T + T - 1) * C, w_.norm.data(), last.data() + b * C, 1, C, c_.eps);
  if (c_.tied && B == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, c_.V, C, 1.f, w_.embed.data(), C, last.data(), 1, 0.f, logits, 1);
  else if (c_.tied) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, c_.V, C, 1.f, last.data(), C, w_.embed.data(), C, 0.f, logits, c_.V);
  else MatMul(last.data(), w_.head.data(), logits, B, C, c_.V);
  len_ = S;
  return true;
}
