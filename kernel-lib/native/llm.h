// Inference of ftgen's Llama model in C++ (llm.cc): KV-cached forward passes that return the last
// token's logits, for scoring prompts and greedy decoding. The model itself is
// kernel-lib/src/model/llama.ts, which this must match (tests compare the two, and both with
// transformers).
//
//   LlmModel    the weights (copied in, fused: q|k|v and gate|up), a thread pool
//   LlmPrefix   keys and values of a run of tokens that many rows share (k demonstrations),
//               computed once and attended to by every row of later sessions
//   LlmSession  a batch of rows with their own KV caches after an optional shared prefix
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "pool.h"

struct LlmConfig {
  int64_t V, C, F, L, H, KV, d;
  float eps;
  bool tied;
};

// Weights in llama.ts' compute layout: linear weights [in, out] row-major, the embedding (V, C),
// the untied head (C, V).
struct LlmWeights {
  std::vector<float> embed, norm, head;
  struct Layer {
    std::vector<float> ln1, wq, wk, wv, wo, ln2, wg, wu, wd;
  };
  std::vector<Layer> layers;
};

class LlmModel {
 public:
  LlmModel(const LlmConfig& cfg, LlmWeights w, int threads);
  // A copy of another model's weights with a pool of its own (a merged or fine-tuned model).
  LlmModel(const LlmModel& src, int threads)
      : embed(src.embed), norm(src.norm), head(src.head), layers(src.layers), c_(src.c_), pool_(new ThreadPool(threads)) {}
  const LlmConfig& config() const { return c_; }
  ThreadPool& pool() const { return *pool_; }

  struct Layer {
    std::vector<float> ln1, wqkv, wo, ln2, wgu, wd;  // wqkv (C, qd + 2·kd), wgu (C, 2F)
  };
  std::vector<float> embed, norm, head;
  std::vector<Layer> layers;

 private:
  LlmConfig c_;
  std::unique_ptr<ThreadPool> pool_;
};

// Keys and values (after RoPE) of `len` tokens at positions 0 … len − 1, per layer (len, KV·d).
struct LlmPrefix {
  int64_t len = 0;
  std::vector<std::vector<float>> K, V;
};

class LlmSession {
 public:
  // `prefixLen` ≤ prefix->len: rows attend to the prefix's first prefixLen keys before their own.
  LlmSession(std::shared_ptr<const LlmModel> m, int64_t batch, int64_t capacity, std::shared_ptr<const LlmPrefix> prefix, int64_t prefixLen);

  // T new tokens per row: ids, mask (B, T), 1 for real tokens, 0 for (left) padding;
  // qCos/qSin/kCos/kSin (B·T, d): llama.ts' rotary tables of these tokens (queries' carry 1/√d).
  // Appends to the rows' caches and writes the logits after each row's last new token, (B, V).
  // Returns false when the cache would go past its capacity.
  bool Step(int64_t T, const int32_t* ids, const int32_t* mask, const float* qCos, const float* qSin, const float* kCos,
            const float* kSin, float* logits);

  // Keeps only the given rows (indices into the current batch, in order): finished rows leave a
  // decoding batch, so that later steps do not compute or read them.
  void KeepRows(const std::vector<int64_t>& rows);

  // The cache of row 0 as a prefix (for a session of one row: the shared demonstrations).
  std::shared_ptr<LlmPrefix> TakePrefix();

  int64_t length() const { return len_; }
  int64_t batch() const { return B_; }
  const LlmConfig& config() const { return m_->config(); }

 private:
  void Attention(int64_t T, const float* qkv, float* att);

  std::shared_ptr<const LlmModel> m_;
  int64_t B_, cap_, len_ = 0;
  std::shared_ptr<const LlmPrefix> prefix_;
  int64_t P_ = 0;
  std::vector<std::vector<float>> K_, V_;  // per layer (B, cap, KV·d)
  std::vector<int32_t> mask_;              // (B, cap)
  int layer_ = 0;                          // the layer Attention works on
};
