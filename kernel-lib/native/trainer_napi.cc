// N-API bindings of the fine-tuning trainer (trainer.h). Handles come from napi_util.h; a trainer
// keeps its model alive, and trainerModel hands a model to inference sessions.
#include "trainer_napi.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "napi_util.h"
#include "trainer.h"

using namespace napi_util;

namespace {

napi_value Throw(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("ftgen_blas." + message).c_str());
  return nullptr;
}

// trainerCreate(model, full: boolean, [rank, targets], [alpha, dropout], seed) → trainer handle.
// full: the model must be one made for this trainer alone (its weights change).
napi_value Create(napi_env env, napi_callback_info info) {
  napi_value a[5];
  if (!Args(env, info, a, 5, "trainerCreate: expected (model, full, [rank, targets], [alpha, dropout], seed)")) return nullptr;
  auto model = Unwrap<const LlmModel>(env, a[0], "trainerCreate's model");
  if (!model) return nullptr;
  bool full;
  CHECK(napi_get_value_bool(env, a[1], &full));
  int64_t ints[2];
  if (!GetInts(env, a[2], ints, 2, 0, "ftgen_blas.trainerCreate: [rank, targets] must be integers ≥ 0")) return nullptr;
  double fl[2];
  if (!GetDoubles(env, a[3], fl, 2, "ftgen_blas.trainerCreate: [alpha, dropout] must be numbers")) return nullptr;
  double seed;
  CHECK(napi_get_value_double(env, a[4], &seed));
  LoraSpec lora;
  lora.rank = ints[0];
  lora.targets = static_cast<uint32_t>(ints[1]);
  lora.alpha = static_cast<float>(fl[0]);
  lora.dropout = static_cast<float>(fl[1]);
  if (!full && (lora.rank < 1 || lora.targets == 0 || lora.targets >= (1u << kModules) || !(lora.dropout >= 0 && lora.dropout < 1)))
    return Throw(env, "trainerCreate: LoRA needs rank ≥ 1, at least one target module and dropout in [0, 1)");
  try {
    auto t = std::make_shared<LlmTrainer>(std::const_pointer_cast<LlmModel>(model), full, lora, static_cast<uint64_t>(seed));
    int64_t bytes = 0;
    for (auto& p : t->params()) bytes += p.n * 4 * (p.own.empty() ? 3 : 4);
    return WrapShared<LlmTrainer>(env, t, bytes, "trainerCreate");
  } catch (const std::exception& e) {
    return Throw(env, std::string("trainerCreate: ") + e.what());
  }
}

// (trainer, B, T, ids, labels, qCos, qSin, kCos, kSin[, dropoutSeed]) → [summed loss, labels counted]
napi_value RunBatch(napi_env env, napi_callback_info info, bool backward) {
  const char* name = backward ? "trainerAccumulate" : "trainerLoss";
  napi_value a[10];
  if (!Args(env, info, a, 9, backward ? "trainerAccumulate: expected (trainer, B, T, ids, labels, qCos, qSin, kCos, kSin[, dropoutSeed])"
                                      : "trainerLoss: expected (trainer, B, T, ids, labels, qCos, qSin, kCos, kSin[, dropoutSeed])")) return nullptr;
  auto t = Unwrap<LlmTrainer>(env, a[0], name);
  if (!t) return nullptr;
  int64_t B, T;
  if (!GetI64(env, a[1], &B) || !GetI64(env, a[2], &T) || B < 1 || T < 1) return Throw(env, std::string(name) + ": B and T must be positive integers");
  int32_t *ids, *labels;
  float *qc, *qs, *kc, *ks;
  size_t nI, nL, n1, n2, n3, n4;
  if (!GetI32Array(env, a[3], &ids, &nI, "ids") || !GetI32Array(env, a[4], &labels, &nL, "labels") || !GetF32(env, a[5], &qc, &n1, "qCos") ||
      !GetF32(env, a[6], &qs, &n2, "qSin") || !GetF32(env, a[7], &kc, &n3, "kCos") || !GetF32(env, a[8], &ks, &n4, "kSin"))
    return nullptr;
  const LlmConfig& c = t->config();
  const size_t N = B * T, R = T * c.d;
  if (nI != N || nL != N || n1 != R || n2 != R || n3 != R || n4 != R) return Throw(env, std::string(name) + ": ids/labels must be B×T and rope tables T×d");
  for (size_t i = 0; i < N; i++)
    if (ids[i] < 0 || ids[i] >= c.V) return Throw(env, std::string(name) + ": token id " + std::to_string(ids[i]) + " is outside the vocabulary");
  double seed = 0;
  napi_valuetype seedType;
  CHECK(napi_typeof(env, a[9], &seedType));
  if (backward && seedType != napi_undefined) CHECK(napi_get_value_double(env, a[9], &seed));
  int64_t count = 0;
  double loss;
  try {
    loss = backward ? t->Accumulate(B, T, ids, labels, qc, qs, kc, ks, static_cast<uint64_t>(seed), &count)
                    : t->Loss(B, T, ids, labels, qc, qs, kc, ks, &count);
  } catch (const std::exception& e) {
    return Throw(env, std::string(name) + ": " + e.what());
  }
  napi_value out, v0, v1;
  CHECK(napi_create_array_with_length(env, 2, &out));
  CHECK(napi_create_double(env, loss, &v0));
  CHECK(napi_create_double(env, static_cast<double>(count), &v1));
  CHECK(napi_set_element(env, out, 0, v0));
  CHECK(napi_set_element(env, out, 1, v1));
  return out;
}

napi_value Accumulate(napi_env env, napi_callback_info info) { return RunBatch(env, info, true); }
napi_value Loss(napi_env env, napi_callback_info info) { return RunBatch(env, info, false); }

// trainerStep(trainer, count, [lr, beta1, beta2, eps, weightDecay, maxGradNorm]) → gradient norm before clipping.
napi_value Step(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (!Args(env, info, a, 3, "trainerStep: expected (trainer, count, [lr, beta1, beta2, eps, weightDecay, maxGradNorm])")) return nullptr;
  auto t = Unwrap<LlmTrainer>(env, a[0], "trainerStep's trainer");
  if (!t) return nullptr;
  double count, x[6];
  CHECK(napi_get_value_double(env, a[1], &count));
  if (!GetDoubles(env, a[2], x, 6, "ftgen_blas.trainerStep: [lr, beta1, beta2, eps, weightDecay, maxGradNorm] must be numbers")) return nullptr;
  const AdamSpec spec{static_cast<float>(x[0]), static_cast<float>(x[1]), static_cast<float>(x[2]), static_cast<float>(x[3]),
                      static_cast<float>(x[4]), static_cast<float>(x[5])};
  napi_value out;
  CHECK(napi_create_double(env, t->Step(count, spec), &out));
  return out;
}

// trainerParams(trainer) → [{ name, shape }] in the trainer's order.
napi_value Params(napi_env env, napi_callback_info info) {
  auto t = OnlyHandle<LlmTrainer>(env, info, "trainerParams's trainer");
  if (!t) return nullptr;
  napi_value out;
  CHECK(napi_create_array_with_length(env, t->params().size(), &out));
  uint32_t i = 0;
  for (auto& p : t->params()) {
    napi_value o, nm, sh;
    CHECK(napi_create_object(env, &o));
    CHECK(napi_create_string_utf8(env, p.name.c_str(), NAPI_AUTO_LENGTH, &nm));
    CHECK(napi_create_array_with_length(env, p.shape.size(), &sh));
    for (uint32_t k = 0; k < p.shape.size(); k++) {
      napi_value v;
      CHECK(napi_create_int64(env, p.shape[k], &v));
      CHECK(napi_set_element(env, sh, k, v));
    }
    CHECK(napi_set_named_property(env, o, "name", nm));
    CHECK(napi_set_named_property(env, o, "shape", sh));
    CHECK(napi_set_element(env, out, i++, o));
  }
  return out;
}

// (trainer, index, which 0 weights | 1 gradient | 2 first moment | 3 second moment, Float32Array) — the
// array is copied into (trainerRead) or from (trainerWrite).
napi_value Copy(napi_env env, napi_callback_info info, bool read) {
  const char* name = read ? "trainerRead" : "trainerWrite";
  napi_value a[4];
  if (!Args(env, info, a, 4, read ? "trainerRead: expected (trainer, index, which, Float32Array)" : "trainerWrite: expected (trainer, index, which, Float32Array)")) return nullptr;
  auto t = Unwrap<LlmTrainer>(env, a[0], name);
  if (!t) return nullptr;
  int64_t index, which;
  if (!GetI64(env, a[1], &index) || !GetI64(env, a[2], &which) || index < 0 || index >= static_cast<int64_t>(t->params().size()) || which < 0 || which > 3)
    return Throw(env, std::string(name) + ": index or which out of range");
  float* data;
  size_t n;
  if (!GetF32(env, a[3], &data, &n, "the array")) return nullptr;
  TrainParam& p = t->params()[index];
  if (static_cast<int64_t>(n) != p.n) return Throw(env, std::string(name) + ": " + p.name + " holds " + std::to_string(p.n) + " values, the array " + std::to_string(n));
  float* src = which == 0 ? p.w : which == 1 ? p.g.data() : which == 2 ? p.m.data() : p.v.data();
  if (read) std::copy_n(src, n, data);
  else std::copy_n(data, n, src);
  return nullptr;
}

napi_value Read(napi_env env, napi_callback_info info) { return Copy(env, info, true); }
napi_value Write(napi_env env, napi_callback_info info) { return Copy(env, info, false); }

// trainerSteps(trainer[, steps]) → optimizer steps taken (set first when given: a resumed run).
napi_value Steps(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (!Args(env, info, a, 1, "trainerSteps: expected (trainer[, steps])")) return nullptr;
  auto t = Unwrap<LlmTrainer>(env, a[0], "trainerSteps's trainer");
  if (!t) return nullptr;
  napi_valuetype type;
  CHECK(napi_typeof(env, a[1], &type));
  if (type == napi_number) CHECK(napi_get_value_int64(env, a[1], &t->steps));
  napi_value out;
  CHECK(napi_create_int64(env, t->steps, &out));
  return out;
}

// trainerZeroGrad(trainer): drops the accumulated gradients without a step (a step whose loss diverged).
napi_value ZeroGradients(napi_env env, napi_callback_info info) {
  auto t = OnlyHandle<LlmTrainer>(env, info, "trainerZeroGrad's trainer");
  if (!t) return nullptr;
  t->ZeroGrad();
  return nullptr;
}

// trainerModel(trainer) → a model handle for inference sessions: full fine-tuning's own model, or
// for LoRA a new model with the pairs merged in.
napi_value Model(napi_env env, napi_callback_info info) {
  auto t = OnlyHandle<LlmTrainer>(env, info, "trainerModel's trainer");
  if (!t) return nullptr;
  std::shared_ptr<LlmModel> m = t->full() ? t->model() : t->Merged();
  const LlmConfig& c = m->config();
  const int64_t bytes = t->full() ? 0 : 4 * (c.V * c.C * (c.tied ? 1 : 2) + c.L * (c.C * (c.H + 2 * c.KV) * c.d + c.H * c.d * c.C + 3 * c.C * c.F));
  return WrapShared<const LlmModel>(env, m, bytes, "trainerModel");
}

// trainerProfile(trainer) → { phase name: seconds } since the trainer was made.
napi_value Profile(napi_env env, napi_callback_info info) {
  auto t = OnlyHandle<LlmTrainer>(env, info, "trainerProfile's trainer");
  if (!t) return nullptr;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  for (int p = 0; p < kPhases; p++) {
    napi_value v;
    CHECK(napi_create_double(env, t->profile()[p], &v));
    CHECK(napi_set_named_property(env, out, kPhaseNames[p], v));
  }
  return out;
}

}  // namespace

bool RegisterTrainer(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"trainerCreate", nullptr, Create, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerAccumulate", nullptr, Accumulate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerLoss", nullptr, Loss, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerStep", nullptr, Step, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerParams", nullptr, Params, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerRead", nullptr, Read, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerWrite", nullptr, Write, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerSteps", nullptr, Steps, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerZeroGrad", nullptr, ZeroGradients, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerModel", nullptr, Model, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trainerProfile", nullptr, Profile, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) == napi_ok;
}
