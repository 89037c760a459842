// Incremental (KV-cached) inference of ftgen's Llama model in C++, for greedy decoding: one call
// per step runs every layer for T new tokens per row and returns the last token's logits. See
// decoder.cc; the model itself is kernel-lib/src/model/llama.ts, which this must match.
#pragma once
#include <cstdint>
#include <vector>

struct DecoderConfig {
  int64_t V, C, F, L, H, KV, d;
  float eps;
  bool tied;
};

// Weights in llama.ts' compute layout: linear weights [in, out], the embedding (V, C), and
// lm_head [in, out] = (C, V) when untied. Copied in: the decoder owns them.
struct DecoderWeights {
  std::vector<float> embed, norm, head;
  struct Layer {
    std::vector<float> ln1, wq, wk, wv, wo, ln2, wg, wu, wd;
  };
  std::vector<Layer> layers;
};

class Decoder {
 public:
  Decoder(const DecoderConfig& cfg, DecoderWeights w, int64_t batch, int64_t capacity);
  // ids, mask (B, T): 1 for real tokens, 0 for padding; qCos/qSin/kCos/kSin (B·T, d): llama.ts'
  // rotary tables for these tokens (queries' carry 1/√d). Appends to the cache; writes (B, V).
  // Returns false when the cache would overflow its capacity.
  bool Step(int64_t T, const int32_t* ids, const int32_t* mask, const float* qCos, const float* qSin, const float* kCos,
            const float* kSin, float* logits);
  int64_t length() const { return len_; }
  int64_t batch() const { return B_; }
  const DecoderConfig& config() const { return c_; }

 private:
  DecoderConfig c_;
  DecoderWeights w_;
  int64_t B_, cap_, len_ = 0;
  std::vector<std::vector<float>> K_, V_;  // per layer (B, cap, KV·d)
  std::vector<int32_t> mask_;              // (B, cap)
};
