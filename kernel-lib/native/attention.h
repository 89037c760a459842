// Causal multi-head attention on row-major float32 buffers, forward and backward, with OpenBLAS
// GEMMs on strided per-head views (no head split/merge copies). See attention.cc.
#pragma once
#include <cstdint>

struct AttnDims {
  int64_t B, T, H, KV, d;
  /** Rows of the additive bias: B (one (T, T) bias per batch row) or 1 (shared). */
  int64_t biasRows;
  /** Worker threads over (batch row, kv head) pairs. */
  int threads;
};

// q (B·T, H·d) roped and scaled by 1/√d; k, v (B·T, KV·d); bias (biasRows, T, T) additive.
// Writes out (B·T, H·d) and the softmax P (B·H, T, T), which the backward needs.
void AttentionForward(const AttnDims& s, const float* q, const float* k, const float* v, const float* bias, float* out, float* P);

// dO (B·T, H·d) → dQ (B·T, H·d), dK, dV (B·T, KV·d):
//   dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = dS·K, dK = Σ_group dSᵀ·Q, dV = Σ_group Pᵀ·dO.
void AttentionBackward(const AttnDims& s, const float* dO, const float* q, const float* k, const float* v, const float* P,
                       float* dQ, float* dK, float* dV);
