// Fine-tuning of ftgen's Llama model (see trainer.h). The forward pass is llm.cc's without a
// cache: RMSNorm, fused q|k|v, rotary embeddings, causal attention, o, RMSNorm, fused gate|up,
// SwiGLU, down, residual adds folded into the output GEMMs, then the final norm and the head on
// labelled positions only (a classification target is one or two of a row's hundreds of tokens).
//
// Saved per layer for the backward: the residual stream before the layer and after attention,
// q|k|v after rotation, the attention output, gate|up before the activation, and each LoRA pair's
// x·Aᵀ. Normed inputs, SwiGLU's output and attention probabilities are recomputed (cheap next to
// the GEMMs, and the probabilities would be B·H·T² floats a layer). Dropout masks are a hash of
// (seed, layer, module, element), so the backward regenerates them.
//
// Every GEMM is split over column (or row) blocks on the model's pool with single-threaded
// OpenBLAS in each worker, as in llm.cc; each output element is written by one worker in a fixed
// order, so a run is bit-identical for a given thread count and BLAS kernel.
#include "trainer.h"
#include "row_kernels.h"

#include <cblas.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>

const char* const kLoraModuleNames[kModules] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
const char* const kPhaseNames[kPhases] = {"linear forward", "LoRA forward", "RMSNorm", "rotary", "attention forward", "SwiGLU",
                                          "head and loss", "linear backward (inputs)", "linear backward (weights)", "LoRA backward",
                                          "attention backward", "AdamW", "other"};

namespace {

constexpr float kMasked = -1e30f;

// C (M, N) = op(A) (M, K) · op(B) (K, N) · alpha + beta · C, row-major, split on the pool over
// column blocks of C (multiples of 16) when N is wide, else over row blocks.
void Gemm(ThreadPool& pool, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const auto TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  const int64_t parts = pool.size() * 2;
  if (N >= 128 || M < 64) {
    const int64_t per = ((N + parts - 1) / parts + 15) / 16 * 16;
    const int64_t blocks = (N + per - 1) / per;
    pool.Run(blocks, [&](int64_t p, int) {
      const int64_t c0 = p * per, c1 = std::min(N, c0 + per);
      cblas_sgemm(CblasRowMajor, TA, TB, M, c1 - c0, K, alpha, A, lda, tb ? B + c0 * ldb : B + c0, ldb, beta, C + c0, ldc);
    });
  } else {
    const int64_t per = (M + parts - 1) / parts;
    const int64_t blocks = (M + per - 1) / per;
    pool.Run(blocks, [&](int64_t p, int) {
      const int64_t r0 = p * per, r1 = std::min(M, r0 + per);
      cblas_sgemm(CblasRowMajor, TA, TB, r1 - r0, N, K, alpha, ta ? A + r0 : A + r0 * lda, lda, B, ldb, beta, C + r0 * ldc, ldc);
    });
  }
}

inline float RmsInv(const float* x, int64_t C, float eps) {
  float ss = 0;
  for (int64_t i = 0; i < C; i++) ss += x[i] * x[i];
  return 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
}

// dx += inv·(w ⊙ dy) − x · inv³/C · Σ(x ⊙ w ⊙ dy); gw (when given) += dy ⊙ x · inv.
inline void RmsBackward(const float* x, float inv, const float* w, const float* dy, float* dx, float* gw, int64_t C) {
  float dot = 0;
  for (int64_t i = 0; i < C; i++) dot += x[i] * w[i] * dy[i];
  const float k = dot * inv * inv * inv / static_cast<float>(C);
  for (int64_t i = 0; i < C; i++) dx[i] += inv * w[i] * dy[i] - x[i] * k;
  if (gw)
    for (int64_t i = 0; i < C; i++) gw[i] += dy[i] * x[i] * inv;
}

// The transpose of Rope: dx[k] = dy[k]·cos[k] + dy[swap(k)]·sin[swap(k)].
inline void RopeBackward(float* g, const float* cos, const float* sin, int64_t heads, int64_t d) {
  const int64_t half = d / 2;
  float tmp[512];
  for (int64_t h = 0; h < heads; h++) {
    float* v = g + h * d;
    for (int64_t i = 0; i < d; i++) {
      const int64_t j = i < half ? i + half : i - half;
      tmp[i] = v[i] * cos[i] + v[j] * sin[j];
    }
    std::memcpy(v, tmp, d * sizeof(float));
  }
}

// Causal softmax of a (T, T) block of scores in place (row t sees keys 0 … t).
void CausalSoftmax(float* S, int64_t T) {
  for (int64_t t = 0; t < T; t++) {
    float* row = S + t * T;
    float mx = kMasked;
    for (int64_t s = 0; s <= t; s++) mx = std::max(mx, row[s]);
    float sum = 0;
    for (int64_t s = 0; s <= t; s++) {
      const float x = row[s] - mx;
      row[s] = x < -87.f ? 0.f : std::exp(x);
      sum += row[s];
    }
    const float inv = 1.0f / sum;
    for (int64_t s = 0; s <= t; s++) row[s] *= inv;
    for (int64_t s = t + 1; s < T; s++) row[s] = 0.f;
  }
}

inline float Sigmoid(float x) { return 1.f / (1.f + std::exp(std::min(-x, 88.f))); }

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from a 64-bit hash.
inline float Unit(uint64_t h) { return static_cast<float>(h >> 40) * (1.0f / 16777216.0f); }

// Whether dropout drops element e of a pair's input: one hash gives four 16-bit draws (four
// elements), each compared with the drop threshold p·2¹⁶.
inline bool Dropped(uint64_t base, uint64_t e, uint32_t threshold) {
  return ((Mix(base + (e >> 2)) >> ((e & 3) * 16)) & 0xffff) < threshold;
}

struct Scratch {
  std::vector<float> a, b;
};
thread_local Scratch tScratch;

}  // namespace

LlmTrainer::LlmTrainer(std::shared_ptr<LlmModel> model, bool full, const LoraSpec& lora, uint64_t seed)
    : m_(std::move(model)), full_(full), lora_(lora) {
  const LlmConfig& c = m_->config();
  const int64_t C = c.C, F = c.F, qd = c.H * c.d, kd = c.KV * c.d, ld = qd + 2 * kd;
  auto add = [&](std::string name, std::vector<int64_t> shape, float* w, bool decay) {
    TrainParam p;
    p.name = std::move(name);
    p.shape = std::move(shape);
    p.n = 1;
    for (int64_t s : p.shape) p.n *= s;
    p.w = w;
    p.decay = decay;
    params_.push_back(std::move(p));
  };
  pairOf_.assign(c.L, std::vector<int>(kModules, -1));
  if (full_) {
    params_.reserve(3 + 6 * c.L);
    add("embed", {c.V, C}, m_->embed.data(), true);
    for (int64_t l = 0; l < c.L; l++) {
      auto& W = m_->layers[l];
      const std::string p = "layers." + std::to_string(l) + ".";
      add(p + "ln1", {C}, W.ln1.data(), false);
      add(p + "wqkv", {C, ld}, W.wqkv.data(), true);
      add(p + "wo", {qd, C}, W.wo.data(), true);
      add(p + "ln2", {C}, W.ln2.data(), false);
      add(p + "wgu", {C, 2 * F}, W.wgu.data(), true);
      add(p + "wd", {F, C}, W.wd.data(), true);
    }
    add("norm", {C}, m_->norm.data(), false);
    if (!c.tied) add("head", {C, c.V}, m_->head.data(), true);
  } else {
    if (lora_.rank < 1) throw std::invalid_argument("LoRA rank must be ≥ 1");
    const int64_t r = lora_.rank;
    const int64_t ins[kModules] = {C, C, C, qd, C, C, F};
    const int64_t outs[kModules] = {qd, kd, kd, C, F, F, C};
    params_.reserve(2 * c.L * kModules);
    for (int64_t l = 0; l < c.L; l++) {
      for (int mod = 0; mod < kModules; mod++) {
        if (!(lora_.targets & (1u << mod))) continue;
        const std::string p = "layers." + std::to_string(l) + "." + kLoraModuleNames[mod] + ".";
        add(p + "lora_A", {r, ins[mod]}, nullptr, true);
        add(p + "lora_B", {outs[mod], r}, nullptr, true);
        pairOf_[l][mod] = static_cast<int>(pairs_.size());
        pairs_.push_back(Pair{l, mod, ins[mod], outs[mod], nullptr, nullptr});
      }
    }
    for (size_t i = 0; i < pairs_.size(); i++) {
      pairs_[i].A = &params_[2 * i];
      pairs_[i].B = &params_[2 * i + 1];
    }
    // A ~ U(−1/√in, 1/√in): PEFT's kaiming_uniform_(a = √5); B = 0, so training starts at the base.
    for (size_t i = 0; i < pairs_.size(); i++) {
      TrainParam& A = *pairs_[i].A;
      A.own.resize(A.n);
      const float bound = 1.0f / std::sqrt(static_cast<float>(pairs_[i].in));
      for (int64_t e = 0; e < A.n; e++) A.own[e] = (2.f * Unit(Mix(seed ^ Mix(i * 0x100000001ULL + e))) - 1.f) * bound;
      pairs_[i].B->own.assign(pairs_[i].B->n, 0.f);
    }
    for (auto& p : params_) p.w = p.own.data();
  }
  for (auto& p : params_) {
    p.g.assign(p.n, 0.f);
    p.m.assign(p.n, 0.f);
    p.v.assign(p.n, 0.f);
  }
  if (full_) {
    gEmbed_ = params_[0].g.data();
    lg_.resize(c.L);
    for (int64_t l = 0; l < c.L; l++) {
      TrainParam* p = &params_[1 + 6 * l];
      lg_[l] = LayerGrads{p[0].g.data(), p[1].g.data(), p[2].g.data(), p[3].g.data(), p[4].g.data(), p[5].g.data()};
    }
    gNorm_ = params_[1 + 6 * c.L].g.data();
    if (!c.tied) gHead_ = params_[2 + 6 * c.L].g.data();
  }
}

double LlmTrainer::Accumulate(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
                              const float* kCos, const float* kSin, uint64_t dropoutSeed, int64_t* count) {
  return Run(B, T, ids, labels, qCos, qSin, kCos, kSin, dropoutSeed, true, count);
}

double LlmTrainer::Loss(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
                        const float* kCos, const float* kSin, int64_t* count) {
  return Run(B, T, ids, labels, qCos, qSin, kCos, kSin, 0, false, count);
}

double LlmTrainer::Run(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
                       const float* kCos, const float* kSin, uint64_t dropoutSeed, bool backward, int64_t* count) {
  const LlmConfig& c = m_->config();
  const int64_t C = c.C, F = c.F, H = c.H, KV = c.KV, d = c.d, g = H / KV, N = B * T, L = c.L, V = c.V;
  const int64_t qd = H * d, kd = KV * d, ld = qd + 2 * kd, r = lora_.rank;
  const float s = full_ ? 0.f : lora_.alpha / static_cast<float>(r);
  const float p = backward ? lora_.dropout : 0.f;
  // An element is dropped when its 16-bit draw is below drop16; kept ones are scaled to keep the mean.
  const uint32_t drop16 = static_cast<uint32_t>(std::lround(p * 65536.f));
  const float keepScale = 65536.f / static_cast<float>(65536 - drop16);
  BlasSingleThread blas;
  ThreadPool& pool = m_->pool();
  if (static_cast<int64_t>(saved_.size()) < L) saved_.resize(L);
  if (u_.size() < pairs_.size()) u_.resize(pairs_.size());
  // Each module's input and output inside a layer: column offset in its fused output.
  const int64_t outOff[kModules] = {0, qd, qd + kd, 0, 0, F, 0};

  // dropout(x) of a pair's input (N, in; stride ldx) into `out` (N, in), or x itself when p = 0.
  auto dropped = [&](const Pair& P, const float* x, int64_t ldx, std::vector<float>& buf, int64_t* ldOut) -> const float* {
    if (p <= 0) {
      *ldOut = ldx;
      return x;
    }
    float* out = Grow(buf, N * P.in);
    const uint64_t base = Mix(dropoutSeed ^ Mix(static_cast<uint64_t>(P.layer) * kModules + P.module + 1));
    ForRows(pool, N, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = 0; j < P.in; j++)
          out[i * P.in + j] = Dropped(base, static_cast<uint64_t>(i * P.in + j), drop16) ? 0.f : x[i * ldx + j] * keepScale;
    });
    *ldOut = P.in;
    return out;
  };
  std::vector<float> dropBuf, dropBuf2;
  // y (N, out; stride ldy) += s · dropout(x)·Aᵀ·Bᵀ, keeping u = dropout(x)·Aᵀ (N, r).
  auto loraForward = [&](int64_t l, int mod, const float* x, int64_t ldx, float* y, int64_t ldy) {
    const int pi = pairOf_[l][mod];
    if (pi < 0) return;
    const Pair& P = pairs_[pi];
    int64_t ldd;
    const float* xd = dropped(P, x, ldx, dropBuf, &ldd);
    float* u = Grow(u_[pi], N * r);
    Gemm(pool, false, true, N, r, P.in, 1.f, xd, ldd, P.A->w, P.in, 0.f, u, r);
    Gemm(pool, false, true, N, P.out, r, s, u, r, P.B->w, r, 1.f, y + outOff[mod], ldy);
  };
  // Given dy (N, out; stride ldy) of a pair's output: gB += s·dyᵀ·u, gA += s·(dy·B)ᵀ·dropout(x),
  // dx (N, in; stride ldx) += dropout'(s·dy·B·A).
  auto loraBackward = [&](int64_t l, int mod, const float* x, int64_t ldx, const float* dy, int64_t ldy, float* dx, int64_t lddx) {
    const int pi = pairOf_[l][mod];
    if (pi < 0) return;
    const Pair& P = pairs_[pi];
    const float* dyo = dy + outOff[mod];
    Gemm(pool, true, false, P.out, r, N, s, dyo, ldy, u_[pi].data(), r, 1.f, P.B->g.data(), r);
    float* du = Grow(tScratch.b, N * r);
    Gemm(pool, false, false, N, r, P.out, s, dyo, ldy, P.B->w, r, 0.f, du, r);
    int64_t ldd;
    const float* xd = dropped(P, x, ldx, dropBuf, &ldd);
    Gemm(pool, true, false, r, P.in, N, 1.f, du, r, xd, ldd, 1.f, P.A->g.data(), P.in);
    if (p <= 0) {
      Gemm(pool, false, false, N, P.in, r, 1.f, du, r, P.A->w, P.in, 1.f, dx, lddx);
      return;
    }
    float* t = Grow(dropBuf2, N * P.in);
    Gemm(pool, false, false, N, P.in, r, 1.f, du, r, P.A->w, P.in, 0.f, t, P.in);
    const uint64_t base = Mix(dropoutSeed ^ Mix(static_cast<uint64_t>(P.layer) * kModules + P.module + 1));
    ForRows(pool, N, 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = 0; j < P.in; j++)
          if (!Dropped(base, static_cast<uint64_t>(i * P.in + j), drop16)) dx[i * lddx + j] += t[i * P.in + j] * keepScale;
    });
  };

  // Time per phase (profile()): each tick adds the time since the last one to a phase.
  auto last = std::chrono::steady_clock::now();
  auto tick = [&](int phase) {
    const auto now = std::chrono::steady_clock::now();
    prof_[phase] += std::chrono::duration<double>(now - last).count();
    last = now;
  };
  // ---- forward ----
  std::vector<float> x(N * C), h(N * C), act(N * F);
  for (int64_t i = 0; i < N; i++) std::copy_n(m_->embed.data() + static_cast<int64_t>(ids[i]) * C, C, x.data() + i * C);
  for (int64_t l = 0; l < L; l++) {
    const auto& W = m_->layers[l];
    Saved& S = saved_[l];
    float* sx = Grow(S.x, N * C);
    float* inv1 = Grow(S.inv1, N);
    float* inv2 = Grow(S.inv2, N);
    float* qkv = Grow(S.qkv, N * ld);
    float* att = Grow(S.att, N * qd);
    float* xm = Grow(S.xm, N * C);
    float* gu = Grow(S.gu, N * 2 * F);
    std::copy_n(x.data(), N * C, sx);
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++) {
        inv1[i] = RmsInv(x.data() + i * C, C, c.eps);
        for (int64_t e = 0; e < C; e++) h[i * C + e] = x[i * C + e] * inv1[i] * W.ln1[e];
      }
    });
    tick(kNorm);
    Gemm(pool, false, false, N, ld, C, 1.f, h.data(), C, W.wqkv.data(), ld, 0.f, qkv, ld);
    tick(kGemmF);
    for (int mod : {kQ, kK, kV}) loraForward(l, mod, h.data(), C, qkv, ld);
    tick(kLoraF);
    ForRows(pool, N, 32, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++) {
        const int64_t t = i % T;
        Rope(qkv + i * ld, qCos + t * d, qSin + t * d, H, d);
        Rope(qkv + i * ld + qd, kCos + t * d, kSin + t * d, KV, d);
      }
    });
    tick(kRope);
    // Causal attention, one task per (row, head).
    pool.Run(B * H, [&](int64_t item, int) {
      const int64_t b = item / H, hh = item % H, j = hh / g;
      float* P = Grow(tScratch.a, T * T);
      const float* Q = qkv + b * T * ld + hh * d;
      const float* K = qkv + b * T * ld + qd + j * d;
      const float* Vv = qkv + b * T * ld + qd + kd + j * d;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, Q, ld, K, ld, 0.f, P, T);
      CausalSoftmax(P, T);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, P, T, Vv, ld, 0.f, att + b * T * qd + hh * d, qd);
    });
    tick(kAttnF);
    Gemm(pool, false, false, N, C, qd, 1.f, att, qd, W.wo.data(), C, 1.f, x.data(), C);  // x += att·Wo
    tick(kGemmF);
    loraForward(l, kO, att, qd, x.data(), C);
    tick(kLoraF);
    std::copy_n(x.data(), N * C, xm);
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++) {
        inv2[i] = RmsInv(x.data() + i * C, C, c.eps);
        for (int64_t e = 0; e < C; e++) h[i * C + e] = x[i * C + e] * inv2[i] * W.ln2[e];
      }
    });
    tick(kNorm);
    Gemm(pool, false, false, N, 2 * F, C, 1.f, h.data(), C, W.wgu.data(), 2 * F, 0.f, gu, 2 * F);
    tick(kGemmF);
    for (int mod : {kGate, kUp}) loraForward(l, mod, h.data(), C, gu, 2 * F);
    tick(kLoraF);
    ForRows(pool, N, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++)
        for (int64_t e = 0; e < F; e++) {
          const float gv = gu[i * 2 * F + e];
          act[i * F + e] = gv * Sigmoid(gv) * gu[i * 2 * F + F + e];
        }
    });
    tick(kAct);
    Gemm(pool, false, false, N, C, F, 1.f, act.data(), F, W.wd.data(), C, 1.f, x.data(), C);  // x += act·Wd
    tick(kGemmF);
    loraForward(l, kDown, act.data(), F, x.data(), C);
    tick(kLoraF);
  }

  tick(kOther);
  // ---- head, on labelled positions ----
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < N; i++)
    if (labels[i] >= 0) {
      if (labels[i] >= V) throw std::out_of_range("label " + std::to_string(labels[i]) + " is outside the vocabulary");
      rows.push_back(i);
    }
  const int64_t M = static_cast<int64_t>(rows.size());
  *count = M;
  if (M == 0) return 0;
  std::vector<float> hl(M * C), invL(M), dhl(backward ? M * C : 0);
  for (int64_t k = 0; k < M; k++) {
    const float* xr = x.data() + rows[k] * C;
    invL[k] = RmsInv(xr, C, c.eps);
    for (int64_t e = 0; e < C; e++) hl[k * C + e] = xr[e] * invL[k] * m_->norm[e];
  }
  const float* E = c.tied ? m_->embed.data() : m_->head.data();
  const int64_t chunk = 64;
  std::vector<float> z(std::min(chunk, M) * V);
  std::vector<double> lossRow(M);
  for (int64_t k0 = 0; k0 < M; k0 += chunk) {
    const int64_t n = std::min(chunk, M - k0);
    if (c.tied) Gemm(pool, false, true, n, V, C, 1.f, hl.data() + k0 * C, C, E, C, 0.f, z.data(), V);
    else Gemm(pool, false, false, n, V, C, 1.f, hl.data() + k0 * C, C, E, V, 0.f, z.data(), V);
    pool.Run(n, [&](int64_t i, int) {
      float* row = z.data() + i * V;
      float mx = -FLT_MAX;
      for (int64_t v = 0; v < V; v++) mx = std::max(mx, row[v]);
      const int32_t y = labels[rows[k0 + i]];
      const float zy = row[y] - mx;
      float sum = 0;
      for (int64_t v = 0; v < V; v++) {
        row[v] = std::exp(std::max(row[v] - mx, -87.f));
        sum += row[v];
      }
      lossRow[k0 + i] = std::log(static_cast<double>(sum)) - zy;
      if (backward) {
        const float inv = 1.0f / sum;
        for (int64_t v = 0; v < V; v++) row[v] *= inv;
        row[y] -= 1.f;  // dz of the summed loss: p − onehot
      }
    });
    if (!backward) continue;
    if (c.tied) {
      Gemm(pool, false, false, n, C, V, 1.f, z.data(), V, E, C, 0.f, dhl.data() + k0 * C, C);
      if (full_) Gemm(pool, true, false, V, C, n, 1.f, z.data(), V, hl.data() + k0 * C, C, 1.f, gEmbed_, C);
    } else {
      Gemm(pool, false, true, n, C, V, 1.f, z.data(), V, E, V, 0.f, dhl.data() + k0 * C, C);
      if (full_) Gemm(pool, true, false, C, V, n, 1.f, hl.data() + k0 * C, C, z.data(), V, 1.f, gHead_, V);
    }
  }
  double loss = 0;
  for (double v : lossRow) loss += v;
  tick(kHead);
  if (!backward) return loss;

  // ---- backward ----
  std::vector<float> dx(N * C, 0.f), dh(N * C), dact(N * F), dgu(N * 2 * F), datt(N * qd), dqkv(N * ld);
  for (int64_t k = 0; k < M; k++) {
    const float* xr = x.data() + rows[k] * C;
    RmsBackward(xr, invL[k], m_->norm.data(), dhl.data() + k * C, dx.data() + rows[k] * C, full_ ? gNorm_ : nullptr, C);
  }
  // dx (N, C) += RMSNorm's backward given dh, for a layer's norm of x (N, C) with 1/rms `inv` and
  // weights w; the weights' gradient (full fine-tuning: gw non-null) is summed per piece of rows,
  // the pieces added in order, so it does not depend on which worker ran which piece.
  auto normBackward = [&](const float* x, const float* inv, const float* w, float* gw) {
    const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(pool.size() * 4, N / 64));
    const int64_t per = (N + pieces - 1) / pieces;
    std::vector<std::vector<float>> part(gw ? pieces : 0, std::vector<float>(C, 0.f));
    pool.Run(pieces, [&](int64_t pc, int) {
      for (int64_t i = pc * per; i < std::min(N, (pc + 1) * per); i++)
        RmsBackward(x + i * C, inv[i], w, dh.data() + i * C, dx.data() + i * C, gw ? part[pc].data() : nullptr, C);
    });
    for (auto& v : part)
      for (int64_t e = 0; e < C; e++) gw[e] += v[e];
  };
  tick(kHead);
  for (int64_t l = L - 1; l >= 0; l--) {
    const auto& W = m_->layers[l];
    Saved& S = saved_[l];
    const float *sx = S.x.data(), *xm = S.xm.data(), *qkv = S.qkv.data(), *att = S.att.data(), *gu = S.gu.data();
    const float *inv1 = S.inv1.data(), *inv2 = S.inv2.data();
    // MLP: x_out = xm + act·Wd (+ LoRA down)
    ForRows(pool, N, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++)
        for (int64_t e = 0; e < F; e++) {
          const float gv = gu[i * 2 * F + e];
          act[i * F + e] = gv * Sigmoid(gv) * gu[i * 2 * F + F + e];
        }
    });
    tick(kAct);
    Gemm(pool, false, true, N, F, C, 1.f, dx.data(), C, W.wd.data(), C, 0.f, dact.data(), F);  // dact = dx·Wdᵀ
    tick(kGemmDx);
    if (full_) Gemm(pool, true, false, F, C, N, 1.f, act.data(), F, dx.data(), C, 1.f, lg_[l].wd, C);
    tick(kGemmDw);
    loraBackward(l, kDown, act.data(), F, dx.data(), C, dact.data(), F);
    tick(kLoraB);
    ForRows(pool, N, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++)
        for (int64_t e = 0; e < F; e++) {
          const float gv = gu[i * 2 * F + e], uv = gu[i * 2 * F + F + e], sg = Sigmoid(gv), da = dact[i * F + e];
          dgu[i * 2 * F + e] = da * uv * sg * (1.f + gv * (1.f - sg));
          dgu[i * 2 * F + F + e] = da * gv * sg;
        }
    });
    tick(kAct);
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++)
        for (int64_t e = 0; e < C; e++) h[i * C + e] = xm[i * C + e] * inv2[i] * W.ln2[e];
    });
    tick(kNorm);
    Gemm(pool, false, true, N, C, 2 * F, 1.f, dgu.data(), 2 * F, W.wgu.data(), 2 * F, 0.f, dh.data(), C);  // dh = dgu·Wguᵀ
    tick(kGemmDx);
    if (full_) Gemm(pool, true, false, C, 2 * F, N, 1.f, h.data(), C, dgu.data(), 2 * F, 1.f, lg_[l].wgu, 2 * F);
    tick(kGemmDw);
    for (int mod : {kGate, kUp}) loraBackward(l, mod, h.data(), C, dgu.data(), 2 * F, dh.data(), C);
    tick(kLoraB);
    // dx (the gradient at xm) += RMSNorm₂'s backward
    normBackward(xm, inv2, W.ln2.data(), full_ ? lg_[l].ln2 : nullptr);
    tick(kNorm);
    // Attention: xm = x + att·Wo (+ LoRA o)
    Gemm(pool, false, true, N, qd, C, 1.f, dx.data(), C, W.wo.data(), C, 0.f, datt.data(), qd);  // datt = dx·Woᵀ
    tick(kGemmDx);
    if (full_) Gemm(pool, true, false, qd, C, N, 1.f, att, qd, dx.data(), C, 1.f, lg_[l].wo, C);
    tick(kGemmDw);
    loraBackward(l, kO, att, qd, dx.data(), C, datt.data(), qd);
    tick(kLoraB);
    // One task per (row, kv head): its g query heads write their own dQ, and the shared dK, dV.
    pool.Run(B * KV, [&](int64_t item, int) {
      const int64_t b = item / KV, j = item % KV;
      float* P = Grow(tScratch.a, 2 * T * T);
      float* dS = P + T * T;
      const float* K = qkv + b * T * ld + qd + j * d;
      const float* Vv = qkv + b * T * ld + qd + kd + j * d;
      float* dK = dqkv.data() + b * T * ld + qd + j * d;
      float* dV = dqkv.data() + b * T * ld + qd + kd + j * d;
      for (int64_t hh = j * g; hh < (j + 1) * g; hh++) {
        const float* Q = qkv + b * T * ld + hh * d;
        const float* dO = datt.data() + b * T * qd + hh * d;
        const float beta = hh == j * g ? 0.f : 1.f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, Q, ld, K, ld, 0.f, P, T);
        CausalSoftmax(P, T);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d, 1.f, dO, qd, Vv, ld, 0.f, dS, T);  // dP
        for (int64_t t = 0; t < T; t++) {
          float* row = dS + t * T;
          const float* pr = P + t * T;
          float dot = 0;
          for (int64_t u = 0; u <= t; u++) dot += row[u] * pr[u];
          for (int64_t u = 0; u <= t; u++) row[u] = pr[u] * (row[u] - dot);
          for (int64_t u = t + 1; u < T; u++) row[u] = 0.f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d, T, 1.f, dS, T, K, ld, 0.f, dqkv.data() + b * T * ld + hh * d, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, dS, T, Q, ld, beta, dK, ld);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d, T, 1.f, P, T, dO, qd, beta, dV, ld);
      }
    });
    tick(kAttnB);
    ForRows(pool, N, 32, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++) {
        const int64_t t = i % T;
        RopeBackward(dqkv.data() + i * ld, qCos + t * d, qSin + t * d, H, d);
        RopeBackward(dqkv.data() + i * ld + qd, kCos + t * d, kSin + t * d, KV, d);
      }
    });
    tick(kRope);
    ForRows(pool, N, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; i++)
        for (int64_t e = 0; e < C; e++) h[i * C + e] = sx[i * C + e] * inv1[i] * W.ln1[e];
    });
    tick(kNorm);
    Gemm(pool, false, true, N, C, ld, 1.f, dqkv.data(), ld, W.wqkv.data(), ld, 0.f, dh.data(), C);  // dh = dqkv·Wqkvᵀ
    tick(kGemmDx);
    if (full_) Gemm(pool, true, false, C, ld, N, 1.f, h.data(), C, dqkv.data(), ld, 1.f, lg_[l].wqkv, ld);
    tick(kGemmDw);
    for (int mod : {kQ, kK, kV}) loraBackward(l, mod, h.data(), C, dqkv.data(), ld, dh.data(), C);
    tick(kLoraB);
    normBackward(sx, inv1, W.ln1.data(), full_ ? lg_[l].ln1 : nullptr);
    tick(kNorm);
  }
  if (full_)
    for (int64_t i = 0; i < N; i++) {
      float* ge = gEmbed_ + static_cast<int64_t>(ids[i]) * C;
      for (int64_t e = 0; e < C; e++) ge[e] += dx[i * C + e];
    }
  tick(kOther);
  return loss;
}

void LlmTrainer::ZeroGrad() {
  ThreadPool& pool = m_->pool();
  for (auto& p : params_) ForRows(pool, p.n, 1 << 16, [&](int64_t a, int64_t b) { std::fill(p.g.begin() + a, p.g.begin() + b, 0.f); });
}

double LlmTrainer::Step(double count, const AdamSpec& a) {
  ThreadPool& pool = m_->pool();
  const float invCount = count > 0 ? static_cast<float>(1.0 / count) : 0.f;
  // Global norm of the averaged gradients, in fixed pieces summed in order.
  double sq = 0;
  for (auto& p : params_) {
    const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(64, p.n / 4096));
    const int64_t per = (p.n + pieces - 1) / pieces;
    std::vector<double> part(pieces, 0.0);
    pool.Run(pieces, [&](int64_t k, int) {
      double acc = 0;
      for (int64_t i = k * per; i < std::min(p.n, (k + 1) * per); i++) {
        const float v = p.g[i] * invCount;
        acc += static_cast<double>(v) * v;
      }
      part[k] = acc;
    });
    for (double v : part) sq += v;
  }
  const double norm = std::sqrt(sq);
  const float clip = a.maxGradNorm > 0 && norm > a.maxGradNorm ? static_cast<float>(a.maxGradNorm / (norm + 1e-6)) : 1.f;
  steps += 1;
  const float bc1 = 1.f - static_cast<float>(std::pow(static_cast<double>(a.beta1), static_cast<double>(steps)));
  const float bc2 = 1.f - static_cast<float>(std::pow(static_cast<double>(a.beta2), static_cast<double>(steps)));
  const float scale = invCount * clip;
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& p : params_) {
    const float decay = a.weightDecay > 0 && p.decay ? 1.f - a.lr * a.weightDecay : 1.f;
    ForRows(pool, p.n, 1 << 14, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) {
        const float gv = p.g[i] * scale;
        p.m[i] = p.m[i] * a.beta1 + gv * (1.f - a.beta1);
        p.v[i] = p.v[i] * a.beta2 + gv * gv * (1.f - a.beta2);
        const float update = (p.m[i] / bc1) / (std::sqrt(p.v[i] / bc2) + a.eps);
        p.w[i] = p.w[i] * decay - a.lr * update;
        p.g[i] = 0.f;
      }
    });
  }
  prof_[kAdam] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return norm;
}

std::shared_ptr<LlmModel> LlmTrainer::Merged() const {
  auto out = std::make_shared<LlmModel>(*m_, m_->pool().size());
  const LlmConfig& c = m_->config();
  const int64_t qd = c.H * c.d, kd = c.KV * c.d, ld = qd + 2 * kd, F = c.F, r = lora_.rank;
  const float s = lora_.alpha / static_cast<float>(r);
  const int64_t outOff[kModules] = {0, qd, qd + kd, 0, 0, F, 0};
  BlasSingleThread blas;
  for (const Pair& P : pairs_) {
    auto& W = out->layers[P.layer];
    float* w;
    int64_t ldw;
    switch (P.module) {
      case kQ: case kK: case kV: w = W.wqkv.data(); ldw = ld; break;
      case kO: w = W.wo.data(); ldw = c.C; break;
      case kGate: case kUp: w = W.wgu.data(); ldw = 2 * F; break;
      default: w = W.wd.data(); ldw = c.C; break;
    }
    // W[:, off:off+out] (in, out) += s · Aᵀ (in, r) · Bᵀ (r, out)
    Gemm(out->pool(), true, true, P.in, P.out, r, s, P.A->w, P.in, P.B->w, r, 1.f, w + outOff[P.module], ldw);
  }
  return out;
}
