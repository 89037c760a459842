// ftgen_blas: single-precision GEMM from the system's OpenBLAS for Node (N-API), so that the tfjs
// wasm backend's matMuls run on native, multi-threaded BLAS while everything else stays in tfjs.
//
// It works on Float32Arrays in place: the caller passes views of the wasm heap (no copies). Built
// by `npm run setup` (scripts/lib/native.ts) with g++ against libopenblas-dev; optional: without it
// kernel-lib falls back to tfjs' own matMul.
#include <node_api.h>
#include <cblas.h>
#include <cstdint>
#include <string>
#include <utility>
#include <initializer_list>

#include "attention.h"
#include "lm_head.h"
#include "llm.h"
#include "napi_util.h"
#include "trainer_napi.h"

extern "C" {
// OpenBLAS extras (declared in its cblas.h on most builds; repeated here for older headers).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace {

using namespace napi_util;


// Products with fewer multiply-adds than this run on one OpenBLAS thread.
constexpr int64_t kSmallGemm = 8 << 20;

// sgemm(transA, transB, M, N, K, A, B, C, batch, strideA, strideB, strideC, alpha, beta)
// For each i < batch: C_i (M, N) = alpha · op(A_i) · op(B_i) + beta · C_i, all row-major,
// A_i = A + i·strideA (op(A_i) is (M, K)), B_i = B + i·strideB, C_i = C + i·strideC.
// A stride of 0 broadcasts that operand over the batch. Bounds are checked before any work.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value a[14];
  if (!Args(env, info, a, 14, "sgemm: expected (transA, transB, M, N, K, A, B, C, batch, strideA, strideB, strideC, alpha, beta)")) return nullptr;
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, a[0], &ta));
  CHECK(napi_get_value_bool(env, a[1], &tb));
  int64_t M, N, K, batch, sA, sB, sC;
  if (!GetI64(env, a[2], &M) || !GetI64(env, a[3], &N) || !GetI64(env, a[4], &K) || !GetI64(env, a[8], &batch) ||
      !GetI64(env, a[9], &sA) || !GetI64(env, a[10], &sB) || !GetI64(env, a[11], &sC)) {
    napi_throw_type_error(env, nullptr, "ftgen_blas.sgemm: sizes and strides must be integers");
    return nullptr;
  }
  double alpha = 1, beta = 0;
  CHECK(napi_get_value_double(env, a[12], &alpha));
  CHECK(napi_get_value_double(env, a[13], &beta));
  float *A, *B, *C;
  size_t nA, nB, nC;
  if (!GetF32(env, a[5], &A, &nA, "A") || !GetF32(env, a[6], &B, &nB, "B") || !GetF32(env, a[7], &C, &nC, "C")) return nullptr;
  if (M < 0 || N < 0 || K < 0 || batch < 1 || sA < 0 || sB < 0 || sC < 0) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.sgemm: negative size or stride");
    return nullptr;
  }
  const int64_t last = batch - 1;
  if (static_cast<uint64_t>(last * sA + M * K) > nA || static_cast<uint64_t>(last * sB + K * N) > nB ||
      static_cast<uint64_t>(last * sC + M * N) > nC) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.sgemm: an operand is smaller than its shape and strides need");
    return nullptr;
  }
  if (M == 0 || N == 0) return nullptr;
  const int lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
  // OpenBLAS threads cost more than they give below a few million multiply-adds (measured:
  // 256×32×256 ran in 66 µs on one thread, 150 µs on two).
  const int threads = openblas_get_num_threads();
  const bool small = M * N * K < kSmallGemm;
  if (small && threads > 1) openblas_set_num_threads(1);
  for (int64_t i = 0; i < batch; i++) {
    if (K == 0) {  // BLAS leaves C alone when K = 0; an empty product is zero
      for (int64_t j = 0; j < M * N; j++) C[i * sC + j] = beta == 0 ? 0.f : static_cast<float>(beta) * C[i * sC + j];
      continue;
    }
    if (M == 1) {  // one row (decoding): a GEMV; OpenBLAS' GEMM is ~2x slower on a single row
      // op(A) is (1, K) and contiguous either way; C = op(B)ᵀ-times-row: y(N) = op(B)ᵀ x(K).
      cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? N : K, tb ? K : N, static_cast<float>(alpha),
                  B + i * sB, ldb, A + i * sA, 1, static_cast<float>(beta), C + i * sC, 1);
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
                static_cast<float>(alpha), A + i * sA, lda, B + i * sB, ldb, static_cast<float>(beta), C + i * sC, ldc);
  }
  if (small && threads > 1) openblas_set_num_threads(threads);
  return nullptr;
}

// Reads the attention shapes: [B, T, H, KV, d, biasRows, threads].
bool GetDims(napi_env env, napi_value v, AttnDims* s) {
  int64_t x[7];
  if (!GetInts(env, v, x, 7, 1, "ftgen_blas: attention dims must be 7 positive integers [B, T, H, KV, d, biasRows, threads]")) return false;
  *s = AttnDims{x[0], x[1], x[2], x[3], x[4], x[5], static_cast<int>(x[6])};
  if (s->H % s->KV != 0 || (s->biasRows != 1 && s->biasRows != s->B)) {
    napi_throw_range_error(env, nullptr, "ftgen_blas: attention needs H divisible by KV and biasRows of 1 or B");
    return false;
  }
  return true;
}

// Checks that each array holds exactly its expected number of floats.
bool Sized(napi_env env, std::initializer_list<std::pair<size_t, size_t>> got_want) {
  for (const auto& gw : got_want) {
    if (gw.first != gw.second) {
      napi_throw_range_error(env, nullptr, "ftgen_blas: an attention buffer has the wrong length for its dims");
      return false;
    }
  }
  return true;
}

// attentionForward(dims, q, k, v, bias, out, P)
napi_value AttnForward(napi_env env, napi_callback_info info) {
  napi_value a[7];
  if (!Args(env, info, a, 7, "attentionForward: expected (dims, q, k, v, bias, out, P)")) return nullptr;
  AttnDims s;
  if (!GetDims(env, a[0], &s)) return nullptr;
  float *q, *k, *v, *bias, *out, *P;
  size_t nq, nk, nv, nb, no, nP;
  if (!GetF32(env, a[1], &q, &nq, "q") || !GetF32(env, a[2], &k, &nk, "k") || !GetF32(env, a[3], &v, &nv, "v") ||
      !GetF32(env, a[4], &bias, &nb, "bias") || !GetF32(env, a[5], &out, &no, "out") || !GetF32(env, a[6], &P, &nP, "P")) return nullptr;
  const size_t N = s.B * s.T;
  if (!Sized(env, {{nq, N * s.H * s.d}, {nk, N * s.KV * s.d}, {nv, N * s.KV * s.d}, {nb, size_t(s.biasRows * s.T * s.T)},
                   {no, N * s.H * s.d}, {nP, size_t(s.B * s.H * s.T * s.T)}})) return nullptr;
  AttentionForward(s, q, k, v, bias, out, P);
  return nullptr;
}

// attentionBackward(dims, dO, q, k, v, P, dQ, dK, dV)
napi_value AttnBackward(napi_env env, napi_callback_info info) {
  napi_value a[9];
  if (!Args(env, info, a, 9, "attentionBackward: expected (dims, dO, q, k, v, P, dQ, dK, dV)")) return nullptr;
  AttnDims s;
  if (!GetDims(env, a[0], &s)) return nullptr;
  float *dO, *q, *k, *v, *P, *dQ, *dK, *dV;
  size_t n0, nq, nk, nv, nP, n1, n2, n3;
  if (!GetF32(env, a[1], &dO, &n0, "dO") || !GetF32(env, a[2], &q, &nq, "q") || !GetF32(env, a[3], &k, &nk, "k") ||
      !GetF32(env, a[4], &v, &nv, "v") || !GetF32(env, a[5], &P, &nP, "P") || !GetF32(env, a[6], &dQ, &n1, "dQ") ||
      !GetF32(env, a[7], &dK, &n2, "dK") || !GetF32(env, a[8], &dV, &n3, "dV")) return nullptr;
  const size_t N = s.B * s.T, qn = N * s.H * s.d, kn = N * s.KV * s.d;
  if (!Sized(env, {{n0, qn}, {nq, qn}, {nk, kn}, {nv, kn}, {nP, size_t(s.B * s.H * s.T * s.T)}, {n1, qn}, {n2, kn}, {n3, kn}})) return nullptr;
  AttentionBackward(s, dO, q, k, v, P, dQ, dK, dV);
  return nullptr;
}

// lmHeadLoss(dims [R, C, V, tied, chunk], h, w, labels, dH | null, dW | null) → mean NLL
napi_value LmHead(napi_env env, napi_callback_info info) {
  napi_value a[6];
  if (!Args(env, info, a, 6, "lmHeadLoss: expected (dims, h, w, labels, dH | null, dW | null)")) return nullptr;
  int64_t x[5];
  if (!GetInts(env, a[0], x, 5, 0, "ftgen_blas.lmHeadLoss: dims must be [R, C, V, tied, chunk]")) return nullptr;
  const LmHeadDims s{x[0], x[1], x[2], x[3] != 0, x[4]};
  float *h, *w, *dH = nullptr, *dW = nullptr;
  size_t nh, nw, ndh = 0, ndw = 0;
  if (!GetF32(env, a[1], &h, &nh, "h") || !GetF32(env, a[2], &w, &nw, "w")) return nullptr;
  napi_valuetype t4;
  CHECK(napi_typeof(env, a[4], &t4));
  const bool grads = t4 != napi_null && t4 != napi_undefined;
  if (grads && (!GetF32(env, a[4], &dH, &ndh, "dH") || !GetF32(env, a[5], &dW, &ndw, "dW"))) return nullptr;
  napi_typedarray_type lt;
  size_t nl;
  void* lp;
  napi_value lb;
  size_t lo;
  if (napi_get_typedarray_info(env, a[3], &lt, &nl, &lp, &lb, &lo) != napi_ok || lt != napi_int32_array) {
    napi_throw_type_error(env, nullptr, "ftgen_blas.lmHeadLoss: labels must be an Int32Array");
    return nullptr;
  }
  const size_t R = s.R, C = s.C, V = s.V;
  if (R < 1 || nh != R * C || nw != V * C || nl != R || (grads && (ndh != R * C || ndw != V * C))) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.lmHeadLoss: a buffer has the wrong length for [R, C, V]");
    return nullptr;
  }
  const int32_t* labels = static_cast<const int32_t*>(lp);
  for (size_t i = 0; i < R; i++) {
    if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= V) {
      napi_throw_range_error(env, nullptr, "ftgen_blas.lmHeadLoss: a label is outside the vocabulary");
      return nullptr;
    }
  }
  napi_value out;
  CHECK(napi_create_double(env, LmHeadLoss(s, h, w, labels, dH, dW), &out));
  return out;
}

// llmCreate([V, C, F, L, H, KV, d, tied, threads], eps, weights[]) → model handle.
// weights: embed (V, C); per layer ln1, wq, wk, wv, wo, ln2, wg, wu, wd ([in, out]); norm; head (C, V) if untied.
napi_value LlmCreate(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (!Args(env, info, a, 3, "llmCreate: expected (dims, eps, weights)")) return nullptr;
  int64_t x[9];
  if (!GetInts(env, a[0], x, 9, 0, "ftgen_blas.llmCreate: dims must be [V, C, F, L, H, KV, d, tied, threads]")) return nullptr;
  double eps;
  CHECK(napi_get_value_double(env, a[1], &eps));
  const LlmConfig cfg{x[0], x[1], x[2], x[3], x[4], x[5], x[6], static_cast<float>(eps), x[7] != 0};
  if (cfg.KV < 1 || cfg.H % cfg.KV != 0 || cfg.d % 2 != 0 || cfg.d > 512 || x[8] < 1) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmCreate: needs H divisible by KV, an even head size ≤ 512 and threads ≥ 1");
    return nullptr;
  }
  const int64_t C = cfg.C, F = cfg.F, qd = cfg.H * cfg.d, kd = cfg.KV * cfg.d;
  std::vector<int64_t> sizes{cfg.V * C};
  for (int64_t l = 0; l < cfg.L; l++) {
    for (int64_t n : {C, C * qd, C * kd, C * kd, qd * C, C, C * F, C * F, F * C}) sizes.push_back(n);
  }
  sizes.push_back(C);
  if (!cfg.tied) sizes.push_back(C * cfg.V);
  uint32_t count = 0;
  CHECK(napi_get_array_length(env, a[2], &count));
  if (count != sizes.size()) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmCreate: wrong number of weight arrays for the config");
    return nullptr;
  }
  std::vector<float*> ptrs(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value e;
    CHECK(napi_get_element(env, a[2], i, &e));
    size_t n;
    if (!GetF32(env, e, &ptrs[i], &n, "a weight")) return nullptr;
    if (static_cast<int64_t>(n) != sizes[i]) {
      napi_throw_range_error(env, nullptr, ("ftgen_blas.llmCreate: weight " + std::to_string(i) + " has the wrong size").c_str());
      return nullptr;
    }
  }
  auto copy = [&](size_t i) { return std::vector<float>(ptrs[i], ptrs[i] + sizes[i]); };
  LlmWeights w;
  size_t i = 0;
  w.embed = copy(i++);
  for (int64_t l = 0; l < cfg.L; l++) {
    LlmWeights::Layer L;
    for (std::vector<float>* t : {&L.ln1, &L.wq, &L.wk, &L.wv, &L.wo, &L.ln2, &L.wg, &L.wu, &L.wd}) *t = copy(i++);
    w.layers.push_back(std::move(L));
  }
  w.norm = copy(i++);
  if (!cfg.tied) w.head = copy(i++);
  int64_t bytes = 0;
  for (int64_t n : sizes) bytes += n * 4;
  // Not const-made: a full fine-tuning trainer takes the model it is given and changes its weights.
  return WrapShared<const LlmModel>(env, std::make_shared<LlmModel>(cfg, std::move(w), static_cast<int>(x[8])), bytes, "llmCreate");
}

// llmSession(model, batch, capacity, prefix | null, prefixLength) → session handle.
napi_value LlmSessionCreate(napi_env env, napi_callback_info info) {
  napi_value a[5];
  if (!Args(env, info, a, 5, "llmSession: expected (model, batch, capacity, prefix | null, prefixLength)")) return nullptr;
  auto model = Unwrap<const LlmModel>(env, a[0], "llmSession's model");
  if (!model) return nullptr;
  int64_t batch, capacity, prefixLen = 0;
  if (!GetI64(env, a[1], &batch) || !GetI64(env, a[2], &capacity) || !GetI64(env, a[4], &prefixLen) || batch < 1 || capacity < 1 || prefixLen < 0) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmSession: batch and capacity must be ≥ 1, prefixLength ≥ 0");
    return nullptr;
  }
  napi_valuetype t3;
  CHECK(napi_typeof(env, a[3], &t3));
  std::shared_ptr<const LlmPrefix> prefix;
  if (t3 != napi_null && t3 != napi_undefined) {
    prefix = Unwrap<const LlmPrefix>(env, a[3], "llmSession's prefix");
    if (!prefix) return nullptr;
    if (prefixLen > prefix->len) {
      napi_throw_range_error(env, nullptr, "ftgen_blas.llmSession: prefixLength is longer than the prefix");
      return nullptr;
    }
  }
  const int64_t bytes = 2 * model->config().L * batch * capacity * model->config().KV * model->config().d * 4;
  return WrapShared<LlmSession>(env, std::make_shared<LlmSession>(model, batch, capacity, prefix, prefixLen), bytes, "llmSession");
}

// llmStep(session, T, ids, mask, qCos, qSin, kCos, kSin, logits) → false when the cache is full.
napi_value LlmStep(napi_env env, napi_callback_info info) {
  napi_value a[9];
  if (!Args(env, info, a, 9, "llmStep: expected (session, T, ids, mask, qCos, qSin, kCos, kSin, logits)")) return nullptr;
  auto session = Unwrap<LlmSession>(env, a[0], "llmStep's session");
  if (!session) return nullptr;
  int64_t T;
  if (!GetI64(env, a[1], &T) || T < 1) {
    napi_throw_type_error(env, nullptr, "ftgen_blas.llmStep: T must be a positive integer");
    return nullptr;
  }
  int32_t *ids, *mask;
  size_t nIds, nMask, n1, n2, n3, n4, nL;
  float *qc, *qs, *kc, *ks, *logits;
  if (!GetI32Array(env, a[2], &ids, &nIds, "ids") || !GetI32Array(env, a[3], &mask, &nMask, "mask") || !GetF32(env, a[4], &qc, &n1, "qCos") ||
      !GetF32(env, a[5], &qs, &n2, "qSin") || !GetF32(env, a[6], &kc, &n3, "kCos") || !GetF32(env, a[7], &ks, &n4, "kSin") ||
      !GetF32(env, a[8], &logits, &nL, "logits")) return nullptr;
  const LlmConfig& c = session->config();
  const size_t N = session->batch() * T;
  if (nIds != N || nMask != N || n1 != N * c.d || n2 != N * c.d || n3 != N * c.d || n4 != N * c.d || nL != session->batch() * c.V) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmStep: a buffer has the wrong length for (batch, T)");
    return nullptr;
  }
  for (size_t i = 0; i < N; i++) {
    if (ids[i] < 0 || ids[i] >= c.V) {
      napi_throw_range_error(env, nullptr, "ftgen_blas.llmStep: a token id is outside the vocabulary");
      return nullptr;
    }
  }
  napi_value out;
  CHECK(napi_get_boolean(env, session->Step(T, ids, mask, qc, qs, kc, ks, logits), &out));
  return out;
}

// llmFree(handle): releases a model, session or prefix now (what other handles share stays alive
// through them); the handle cannot be used after.
napi_value LlmFree(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!Args(env, info, a, 1, "llmFree: expected a handle")) return nullptr;
  void* p = nullptr;
  if (napi_get_value_external(env, a[0], &p) != napi_ok || !p) {
    napi_throw_type_error(env, nullptr, "ftgen_blas.llmFree: expected a handle");
    return nullptr;
  }
  auto* h = static_cast<Holder*>(p);
  if (h->p) {
    int64_t ignored;
    napi_adjust_external_memory(env, -h->bytes, &ignored);
    h->p.reset();
  }
  return nullptr;
}

// llmKeepRows(session, rows: Int32Array) — rows strictly increasing, each < batch.
napi_value LlmKeepRows(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (!Args(env, info, a, 2, "llmKeepRows: expected (session, rows)")) return nullptr;
  auto session = Unwrap<LlmSession>(env, a[0], "llmKeepRows's session");
  if (!session) return nullptr;
  int32_t* rows;
  size_t n;
  if (!GetI32Array(env, a[1], &rows, &n, "rows")) return nullptr;
  std::vector<int64_t> keep(rows, rows + n);
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < 0 || keep[i] >= session->batch() || (i > 0 && keep[i] <= keep[i - 1])) {
      napi_throw_range_error(env, nullptr, "ftgen_blas.llmKeepRows: rows must be increasing indices of the batch");
      return nullptr;
    }
  }
  if (n == 0) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmKeepRows: keep at least one row");
    return nullptr;
  }
  session->KeepRows(keep);
  return nullptr;
}

// llmTakePrefix(session) → prefix handle: the keys and values of row 0 (a session of one row, no prefix of its own).
napi_value LlmTakePrefix(napi_env env, napi_callback_info info) {
  auto session = OnlyHandle<LlmSession>(env, info, "llmTakePrefix's session");
  if (!session) return nullptr;
  if (session->batch() != 1 || session->length() == 0) {
    napi_throw_range_error(env, nullptr, "ftgen_blas.llmTakePrefix: needs a session of one row that has run");
    return nullptr;
  }
  auto prefix = session->TakePrefix();
  const int64_t bytes = 2 * session->config().L * prefix->len * session->config().KV * session->config().d * 4;
  return WrapShared<const LlmPrefix>(env, prefix, bytes, "llmTakePrefix");
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (!Args(env, info, a, 1, "setThreads: expected (threads)")) return nullptr;
  int32_t n = 0;
  CHECK(napi_get_value_int32(env, a[0], &n));
  if (n > 0) openblas_set_num_threads(n);
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, threads, config, core;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &threads));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core));
  CHECK(napi_set_named_property(env, obj, "threads", threads));
  CHECK(napi_set_named_property(env, obj, "config", config));
  CHECK(napi_set_named_property(env, obj, "core", core));
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionForward", nullptr, AttnForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionBackward", nullptr, AttnBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lmHeadLoss", nullptr, LmHead, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmCreate", nullptr, LlmCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmSession", nullptr, LlmSessionCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmStep", nullptr, LlmStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmTakePrefix", nullptr, LlmTakePrefix, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmKeepRows", nullptr, LlmKeepRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"llmFree", nullptr, LlmFree, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  if (!RegisterTrainer(env, exports)) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
