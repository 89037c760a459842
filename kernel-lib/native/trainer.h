// Fine-tuning of ftgen's Llama model in C++ (trainer.cc): forward and backward passes over a
// right-padded batch with the loss on labelled positions only, gradients accumulated over
// micro-batches, and AdamW. Weights, gradients and optimizer moments live here, outside tfjs and
// its 4 GiB wasm heap.
//
//   full   every weight of an LlmModel that the trainer owns (a copy made for it) is trained;
//   lora   the model is a frozen base, shared and never copied; each target module of each layer
//          gets PEFT's low-rank pair, y = x·W + (α/r)·dropout(x)·Aᵀ·Bᵀ, with A (r, in), B (out, r).
//
// The model's own layout (llm.h): linear weights [in, out], q|k|v and gate|up fused.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llm.h"

// The linear modules a LoRA pair can target, in this order (a bit each in LoraSpec::targets).
enum LoraModule { kQ = 0, kK, kV, kO, kGate, kUp, kDown, kModules };
extern const char* const kLoraModuleNames[kModules];

// Phases whose time the trainer adds up (profile()): where a step's time goes.
enum Phase { kGemmF = 0, kLoraF, kNorm, kRope, kAttnF, kAct, kHead, kGemmDx, kGemmDw, kLoraB, kAttnB, kAdam, kOther, kPhases };
extern const char* const kPhaseNames[kPhases];

struct LoraSpec {
  int64_t rank = 8;
  float alpha = 16;
  float dropout = 0;
  uint32_t targets = (1u << kQ) | (1u << kV);
};

struct AdamSpec {
  float lr, beta1, beta2, eps, weightDecay, maxGradNorm;
};

// A trained tensor: its weights (in the model or owned here), gradient and AdamW moments.
struct TrainParam {
  std::string name;
  std::vector<int64_t> shape;
  float* w;
  int64_t n;
  bool decay;
  std::vector<float> own;  // the weights when the trainer holds them (LoRA pairs)
  std::vector<float> g, m, v;
};

class LlmTrainer {
 public:
  // full: `model` must be the trainer's own copy (its weights change). lora: `model` is a shared
  // frozen base; A is drawn like PEFT's (Kaiming-uniform, a = √5) from `seed`, B is zero.
  LlmTrainer(std::shared_ptr<LlmModel> model, bool full, const LoraSpec& lora, uint64_t seed);

  // Forward and backward of one micro-batch: ids, labels (B, T) row-major, labels −1 where there
  // is no loss; rope tables (T, d) for positions 0 … T − 1 (the queries' carry 1/√d). Adds the
  // gradient of the SUMMED loss to the accumulated gradients (dropout masks from dropoutSeed) and
  // returns the summed loss; *count gets the number of labels.
  double Accumulate(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
                    const float* kCos, const float* kSin, uint64_t dropoutSeed, int64_t* count);

  // The summed loss only (no gradients, no dropout).
  double Loss(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
              const float* kCos, const float* kSin, int64_t* count);

  // One AdamW step (decoupled weight decay, bias correction) with the accumulated gradients
  // divided by `count`, clipped to a global norm of maxGradNorm (0: no clipping); gradients are
  // zeroed after. Returns the global norm before clipping.
  double Step(double count, const AdamSpec& a);

  void ZeroGrad();

  // The weights with every LoRA pair added in, as a new model (the base is untouched).
  std::shared_ptr<LlmModel> Merged() const;

  std::vector<TrainParam>& params() { return params_; }
  // Seconds spent per phase since the trainer was made.
  const double* profile() const { return prof_; }
  int64_t steps = 0;  // optimizer steps taken (bias correction)
  const LlmConfig& config() const { return m_->config(); }
  bool full() const { return full_; }
  const LoraSpec& lora() const { return lora_; }
  std::shared_ptr<LlmModel> model() const { return m_; }

 private:
  struct Pair {
    int64_t layer;
    int module;
    int64_t in, out;
    TrainParam* A;
    TrainParam* B;
  };
  double Run(int64_t B, int64_t T, const int32_t* ids, const int32_t* labels, const float* qCos, const float* qSin,
             const float* kCos, const float* kSin, uint64_t dropoutSeed, bool backward, int64_t* count);

  std::shared_ptr<LlmModel> m_;
  bool full_;
  LoraSpec lora_;
  std::vector<TrainParam> params_;
  std::vector<Pair> pairs_;
  // Per layer and module: the pair's index in pairs_, or −1.
  std::vector<std::vector<int>> pairOf_;
  // Full fine-tuning: each model tensor's param (by address), for gradient writes.
  struct LayerGrads {
    float *ln1 = nullptr, *wqkv = nullptr, *wo = nullptr, *ln2 = nullptr, *wgu = nullptr, *wd = nullptr;
  };
  std::vector<LayerGrads> lg_;
  float *gEmbed_ = nullptr, *gNorm_ = nullptr, *gHead_ = nullptr;
  // Saved activations of the last forward, per layer (they only grow), and each pair's x·Aᵀ.
  struct Saved {
    std::vector<float> x, xm, qkv, att, gu, inv1, inv2;
  };
  std::vector<Saved> saved_;
  std::vector<std::vector<float>> u_;
  double prof_[kPhases] = {};
};
