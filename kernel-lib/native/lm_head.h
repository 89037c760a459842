// Cross-entropy of the LM head, fused: logits, softmax, loss and both gradients in row chunks,
// with OpenBLAS GEMMs. See lm_head.cc.
#pragma once
#include <cstdint>

struct LmHeadDims {
  int64_t R;      // rows with a label
  int64_t C;      // hidden size
  int64_t V;      // vocabulary
  bool tied;      // w is the embedding (V, C); else lm_head held [in, out] = (C, V)
  int64_t chunk;  // rows of logits computed at once
};

// h (R, C), w (V, C) tied or (C, V), labels (R) in [0, V). Returns the mean NLL over the R rows.
// When dH and dW are non-null, writes the gradients of that mean: dH (R, C), dW in w's layout.
double LmHeadLoss(const LmHeadDims& s, const float* h, const float* w, const int32_t* labels, float* dH, float* dW);
