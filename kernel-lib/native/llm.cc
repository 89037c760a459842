// KV-cached Llama inference (see llm.h). The computation of llama.ts' hidden2d + logits with a
// cache: RMSNorm, one fused q|k|v projection, rotary embeddings from the caller's tables, causal
// attention over [shared prefix | the row's own keys], one fused gate|up projection, SwiGLU, the
// residual adds folded into the output GEMMs (beta = 1), final norm and the head on each row's
// last token only.
//
// Every parallel part runs on the model's pool with single-threaded OpenBLAS inside each worker:
// linear layers split over column blocks, attention over (row, head, query block) when many
// queries come at once (prefill) and over (key/value head, group of rows) when few do (decoding),
// so that a shared prefix's keys are read once per group rather than once per row and head.
// Compiled with -ffast-math (vectorized expf); masked scores are kept finite.
#include "llm.h"
#include "row_kernels.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace {

constexpr float kMasked = -1e30f;
// Queries per attention task in the prefill path.
constexpr int64_t kQueryBlock = 64;
// Steps with at most this many new tokens per row take the grouped (decoding) attention path.
constexpr int64_t kFewQueries = 4;

// y (n, m) = x (n, k) · W (k, m) + beta · y, rows of x and y with strides ldx, ldy; split over
// column blocks (multiples of 16) on the pool, so that each worker streams its own part of the
// weights. (Measured here: splitting rows instead, or one GEMM on OpenBLAS's own threads, ran prefill
// at about half the speed.)
void Linear(ThreadPool& pool, const float* x, int64_t ldx, const float* W, float* y, int64_t ldy, int64_t n, int64_t k, int64_t m, float beta) {
  const int64_t parts = n == 1 ? pool.size() : pool.size() * 2;
  const int64_t per = ((m + parts - 1) / parts + 15) / 16 * 16;
  const int64_t blocks = (m + per - 1) / per;
  pool.Run(blocks, [&](int64_t p, int) {
    const int64_t c0 = p * per, c1 = std::min(m, c0 + per);
    if (n == 1) cblas_sgemv(CblasRowMajor, CblasTrans, k, c1 - c0, 1.f, W + c0, m, x, 1, beta, y + c0, 1);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, c1 - c0, k, 1.f, x, ldx, W + c0, m, beta, y + c0, ldy);
  });
}

// out (C) = x · rsqrt(mean(x²) + eps) · w
inline void RmsNorm(const float* x, const float* w, float* out, int64_t C, float eps) {
  float ss = 0;
  for (int64_t i = 0; i < C; i++) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
  for (int64_t i = 0; i < C; i++) out[i] = x[i] * inv * w[i];
}

// Softmax of a row of scores in place; masked entries hold kMasked and come out 0.
inline void SoftmaxRow(float* row, int64_t n) {
  float mx = kMasked;
  for (int64_t s = 0; s < n; s++) mx = std::max(mx, row[s]);
  float sum = 0;
  for (int64_t s = 0; s < n; s++) {
    const float x = row[s] - mx;
    const float e = std::exp(std::max(x, -87.f));
    row[s] = x < -87.f ? 0.f : e;
    sum += row[s];
  }
  const float inv = 1.0f / sum;
  for (int64_t s = 0; s < n; s++) row[s] *= inv;
}

// Per-worker scratch buffers (grown on demand, kept between calls).
struct Scratch {
  std::vector<float> a, b, c, d;
};
thread_local Scratch tScratch;

}  // namespace

LlmModel::LlmModel(const LlmConfig& cfg, LlmWeights w, int threads) : c_(cfg), pool_(new ThreadPool(threads)) {
  const int64_t C = c_.C, F = c_.F, qd = c_.H * c_.d, kd = c_.KV * c_.d, qkv = qd + 2 * kd;
  embed = std::move(w.embed);
  norm = std::move(w.norm);
  head = std::move(w.head);
  for (auto& W : w.layers) {
    Layer L;
    L.ln1 = std::move(W.ln1);
    L.ln2 = std::move(W.ln2);
    L.wo = std::move(W.wo);
    L.wd = std::move(W.wd);
    L.wqkv.resize(C * qkv);
    L.wgu.resize(C * 2 * F);
    for (int64_t i = 0; i < C; i++) {
      std::copy_n(W.wq.data() + i * qd, qd, L.wqkv.data() + i * qkv);
      std::copy_n(W.wk.data() + i * kd, kd, L.wqkv.data() + i * qkv + qd);
      std::copy_n(W.wv.data() + i * kd, kd, L.wqkv.data() + i * qkv + qd + kd);
      std::copy_n(W.wg.data() + i * F, F, L.wgu.data() + i * 2 * F);
      std::copy_n(W.wu.data() + i * F, F, L.wgu.data() + i * 2 * F + F);
    }
    W = LlmWeights::Layer();  // free the unfused copies as we go
    layers.push_back(std::move(L));
  }
}

LlmSession::LlmSession(std::shared_ptr<const LlmModel> m, int64_t batch, int64_t capacity, std::shared_ptr<const LlmPrefix> prefix, int64_t prefixLen)
    : m_(std::move(m)), B_(batch), cap_(capacity), prefix_(std::move(prefix)), P_(prefix_ ? prefixLen : 0), K_(m_->config().L), V_(m_->config().L),
      mask_(batch * capacity, 0) {
  const int64_t kd = m_->config().KV * m_->config().d;
  for (int64_t l = 0; l < m_->config().L; l++) {
    K_[l].assign(B_ * cap_ * kd, 0.f);
    V_[l].assign(B_ * cap_ * kd, 0.f);
  }
}

void LlmSession::KeepRows(const std::vector<int64_t>& rows) {
  const int64_t kd = m_->config().KV * m_->config().d, n = static_cast<int64_t>(rows.size());
  for (int64_t l = 0; l < m_->config().L; l++) {
    for (int64_t i = 0; i < n; i++) {
      if (rows[i] == i) continue;  // rows only move down: row i's new place is never a kept row's old one still to be read
      std::copy_n(K_[l].data() + rows[i] * cap_ * kd, len_ * kd, K_[l].data() + i * cap_ * kd);
      std::copy_n(V_[l].data() + rows[i] * cap_ * kd, len_ * kd, V_[l].data() + i * cap_ * kd);
    }
  }
  for (int64_t i = 0; i < n; i++)
    if (rows[i] != i) std::copy_n(mask_.data() + rows[i] * cap_, cap_, mask_.data() + i * cap_);
  B_ = n;
}

std::shared_ptr<LlmPrefix> LlmSession::TakePrefix() {
  auto p = std::make_shared<LlmPrefix>();
  const int64_t kd = m_->config().KV * m_->config().d;
  p->len = len_;
  for (int64_t l = 0; l < m_->config().L; l++) {
    K_[l].resize(len_ * kd);
    V_[l].resize(len_ * kd);
    K_[l].shrink_to_fit();
    V_[l].shrink_to_fit();
    p->K.push_back(std::move(K_[l]));
    p->V.push_back(std::move(V_[l]));
  }
  len_ = 0;
  return p;
}

// att (B·T, H·d) for the queries in qkv (B·T, qd + 2·kd; q at column 0), against the prefix's
// first P_ keys and each row's own cache (len_ + T keys, this step's already appended).
void LlmSession::Attention(int64_t T, const float* qkv, float* att) {
  const LlmConfig& c = m_->config();
  const int64_t d = c.d, H = c.H, KV = c.KV, g = H / KV, qd = H * d, kd = KV * d, ld = qd + 2 * kd, past = len_, P = P_;
  const float* Kp = P > 0 ? prefix_->K[layer_].data() : nullptr;
  const float* Vp = P > 0 ? prefix_->V[layer_].data() : nullptr;
  const float* Kc = K_[layer_].data();
  const float* Vc = V_[layer_].data();
  ThreadPool& pool = m_->pool();

  if (T > kFewQueries) {
    // Prefill: one task per (row, head, block of queries); keys past the block's last query are
    // masked for all of it, so only past + t1 own keys are scored.
    const int64_t blocks = (T + kQueryBlock - 1) / kQueryBlock;
    pool.Run(B_ * H * blocks, [&](int64_t item, int) {
      const int64_t b = item / (H * blocks), h = (item / blocks) % H, blk = item % blocks, j = h / g;
      const int64_t t0 = blk * kQueryBlock, t1 = std::min(T, t0 + kQueryBlock), nt = t1 - t0, S = past + t1, W = P + S;
      float* sc = Grow(tScratch.a, nt * W);
      const float* Q = qkv + (b * T + t0) * ld + h * d;
      const float* Kb = Kc + b * cap_ * kd + j * d;
      const float* Vb = Vc + b * cap_ * kd + j * d;
      const int32_t* mk = mask_.data() + b * cap_;
      if (P > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nt, P, d, 1.f, Q, ld, Kp + j * d, kd, 0.f, sc, W);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nt, S, d, 1.f, Q, ld, Kb, kd, 0.f, sc + P, W);
      for (int64_t i = 0; i < nt; i++) {
        float* row = sc + i * W;
        const int64_t last = past + t0 + i;  // the query's own index: keys after it are masked
        for (int64_t s = 0; s < S; s++)
          if (s > last || mk[s] == 0) row[P + s] = kMasked;
        SoftmaxRow(row, W);
      }
      float* O = att + (b * T + t0) * qd + h * d;
      if (P > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, d, P, 1.f, sc, W, Vp + j * d, kd, 0.f, O, qd);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, d, S, 1.f, sc + P, W, Vb, kd, P > 0 ? 1.f : 0.f, O, qd);
    });
    return;
  }

  // Decoding: one task per (kv head, group of rows). The group's queries (rows × g heads × T)
  // are stacked so that the prefix's keys and values are read once for all of them.
  const int64_t S = past + T;
  const int64_t groupsWanted = std::max<int64_t>(1, (2 * pool.size() + KV - 1) / KV);
  const int64_t per = (B_ + std::min(B_, groupsWanted) - 1) / std::min(B_, groupsWanted);
  const int64_t groups = (B_ + per - 1) / per;
  pool.Run(KV * groups, [&](int64_t item, int) {
    const int64_t j = item / groups, b0 = (item % groups) * per, b1 = std::min(B_, b0 + per), rows = b1 - b0;
    const int64_t perRow = g * T, M = rows * perRow, W = P + S;
    float* Q = Grow(tScratch.a, M * d);
    float* sc = Grow(tScratch.b, M * W);
    float* O = Grow(tScratch.c, M * d);
    // Q row m = ((b − b0)·g + hh)·T + t holds the query of (row b, head j·g + hh, token t).
    for (int64_t b = b0; b < b1; b++)
      for (int64_t hh = 0; hh < g; hh++)
        for (int64_t t = 0; t < T; t++)
          std::copy_n(qkv + (b * T + t) * ld + (j * g + hh) * d, d, Q + (((b - b0) * g + hh) * T + t) * d);
    if (P > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, P, d, 1.f, Q, d, Kp + j * d, kd, 0.f, sc, W);
    for (int64_t b = b0; b < b1; b++) {
      const int64_t m0 = (b - b0) * perRow;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, perRow, S, d, 1.f, Q + m0 * d, d, Kc + b * cap_ * kd + j * d, kd, 0.f, sc + m0 * W + P, W);
      const int32_t* mk = mask_.data() + b * cap_;
      for (int64_t r = 0; r < perRow; r++) {
        float* row = sc + (m0 + r) * W;
        const int64_t last = past + r % T;
        for (int64_t s = 0; s < S; s++)
          if (s > last || mk[s] == 0) row[P + s] = kMasked;
        SoftmaxRow(row, W);
      }
    }
    if (P > 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, d, P, 1.f, sc, W, Vp + j * d, kd, 0.f, O, d);
    for (int64_t b = b0; b < b1; b++) {
      const int64_t m0 = (b - b0) * perRow;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, perRow, d, S, 1.f, sc + m0 * W + P, W, Vc + b * cap_ * kd + j * d, kd,
                  P > 0 ? 1.f : 0.f, O + m0 * d, d);
      for (int64_t hh = 0; hh < g; hh++)
        for (int64_t t = 0; t < T; t++)
          std::copy_n(O + (m0 + hh * T + t) * d, d, att + (b * T + t) * qd + (j * g + hh) * d);
    }
  });
}

bool LlmSession::Step(int64_t T, const int32_t* ids, const int32_t* mask, const float* qCos, const float* qSin, const float* kCos,
                      const float* kSin, float* logits) {
  const LlmConfig& c = m_->config();
  const int64_t B = B_, C = c.C, F = c.F, H = c.H, KV = c.KV, d = c.d, N = B * T, past = len_;
  const int64_t qd = H * d, kd = KV * d, ld = qd + 2 * kd;
  if (past + T > cap_) return false;
  BlasSingleThread blas;
  ThreadPool& pool = m_->pool();
  std::vector<float> x(N * C), h(N * C), qkv(N * ld), att(N * qd), gu(N * 2 * F), act(N * F);
  for (int64_t r = 0; r < N; r++) std::copy_n(m_->embed.data() + static_cast<int64_t>(ids[r]) * C, C, x.data() + r * C);
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++) mask_[b * cap_ + past + t] = mask[b * T + t];
  for (int64_t l = 0; l < c.L; l++) {
    const auto& W = m_->layers[l];
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) RmsNorm(x.data() + r * C, W.ln1.data(), h.data() + r * C, C, c.eps);
    });
    Linear(pool, h.data(), C, W.wqkv.data(), qkv.data(), ld, N, C, ld, 0.f);
    float* Kc = K_[l].data();
    float* Vc = V_[l].data();
    ForRows(pool, N, 32, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        float* row = qkv.data() + r * ld;
        Rope(row, qCos + r * d, qSin + r * d, H, d);
        Rope(row + qd, kCos + r * d, kSin + r * d, KV, d);
        const int64_t b = r / T, t = r % T;
        std::copy_n(row + qd, kd, Kc + (b * cap_ + past + t) * kd);
        std::copy_n(row + qd + kd, kd, Vc + (b * cap_ + past + t) * kd);
      }
    });
    layer_ = static_cast<int>(l);
    Attention(T, qkv.data(), att.data());
    Linear(pool, att.data(), qd, W.wo.data(), x.data(), C, N, qd, C, 1.f);  // x += att · Wo
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) RmsNorm(x.data() + r * C, W.ln2.data(), h.data() + r * C, C, c.eps);
    });
    Linear(pool, h.data(), C, W.wgu.data(), gu.data(), 2 * F, N, C, 2 * F, 0.f);
    ForRows(pool, N, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        const float* gr = gu.data() + r * 2 * F;
        const float* ur = gr + F;
        float* ar = act.data() + r * F;
        for (int64_t i = 0; i < F; i++) ar[i] = gr[i] / (1.f + std::exp(std::min(-gr[i], 88.f))) * ur[i];
      }
    });
    Linear(pool, act.data(), F, W.wd.data(), x.data(), C, N, F, C, 1.f);  // x += act · Wd
  }
  // The last new token of each row, normed, through the head.
  std::vector<float> last(B * C);
  for (int64_t b = 0; b < B; b++) RmsNorm(x.data() + (b * T + T - 1) * C, m_->norm.data(), last.data() + b * C, C, c.eps);
  if (c.tied) {
    // logits (B, V) = last · embedᵀ, split over blocks of the vocabulary.
    const int64_t parts = pool.size() * 2, per = (c.V + parts - 1) / parts;
    pool.Run(parts, [&](int64_t p, int) {
      const int64_t v0 = p * per, v1 = std::min(c.V, v0 + per);
      if (v0 >= v1) return;
      if (B == 1) cblas_sgemv(CblasRowMajor, CblasNoTrans, v1 - v0, C, 1.f, m_->embed.data() + v0 * C, C, last.data(), 1, 0.f, logits + v0, 1);
      else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, v1 - v0, C, 1.f, last.data(), C, m_->embed.data() + v0 * C, C, 0.f, logits + v0, c.V);
    });
  } else {
    Linear(pool, last.data(), C, m_->head.data(), logits, c.V, B, C, c.V, 0.f);
  }
  len_ = past + T;
  return true;
}
