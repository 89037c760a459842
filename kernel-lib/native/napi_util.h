// N-API helpers shared by the addon's binding files (ftgen_blas.cc, trainer_napi.cc): typed-array
// access with one-line errors, and handles (externals holding shared_ptrs, with their memory
// reported to V8).
#pragma once
#include <node_api.h>

#include <cstdint>
#include <memory>
#include <string>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "ftgen_blas: N-API call failed"); \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

namespace napi_util {

inline bool GetF32(napi_env env, napi_value v, float** data, size_t* length, const char* what) {
  napi_typedarray_type type;
  napi_value buf;
  size_t offset;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &p, &buf, &offset) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, (std::string("ftgen_blas: ") + what + " must be a Float32Array").c_str());
    return false;
  }
  *data = static_cast<float*>(p);  // already adjusted by the byte offset
  return true;
}

// Reads a binding's arguments into a (those not given read as undefined). Fewer than `need` throws a
// TypeError "ftgen_blas.<usage>", so a call missing an argument fails loudly instead of returning
// undefined.
template <size_t N>
inline bool Args(napi_env env, napi_callback_info info, napi_value (&a)[N], size_t need, const char* usage) {
  size_t argc = N;
  if (napi_get_cb_info(env, info, &argc, a, nullptr, nullptr) != napi_ok) {
    napi_throw_error(env, nullptr, "ftgen_blas: N-API call failed");
    return false;
  }
  if (argc < need) {
    napi_throw_type_error(env, nullptr, (std::string("ftgen_blas.") + usage).c_str());
    return false;
  }
  return true;
}

inline bool GetI64(napi_env env, napi_value v, int64_t* out) { return napi_get_value_int64(env, v, out) == napi_ok; }

// Reads n numbers from the array v into out; otherwise throws a TypeError with `message`.
inline bool GetDoubles(napi_env env, napi_value v, double* out, uint32_t n, const char* message) {
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_double(env, e, &out[i]) != napi_ok) {
      napi_throw_type_error(env, nullptr, message);
      return false;
    }
  }
  return true;
}

// Reads n integers ≥ min from the array v into out; otherwise throws a TypeError with `message`.
inline bool GetInts(napi_env env, napi_value v, int64_t* out, uint32_t n, int64_t min, const char* message) {
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_int64(env, e, &out[i]) != napi_ok || out[i] < min) {
      napi_throw_type_error(env, nullptr, message);
      return false;
    }
  }
  return true;
}

inline bool GetI32Array(napi_env env, napi_value v, int32_t** data, size_t* length, const char* what) {
  napi_typedarray_type type;
  napi_value buf;
  size_t offset;
  void* p = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &p, &buf, &offset) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, nullptr, (std::string("ftgen_blas: ") + what + " must be an Int32Array").c_str());
    return false;
  }
  *data = static_cast<int32_t*>(p);
  return true;
}

// Handles: externals holding shared_ptrs, so a session keeps its model and prefix alive. Each
// handle tells V8 how much memory it holds (napi_adjust_external_memory), so that garbage
// collection counts it; llmFree releases it at once, without waiting for a collection.
struct Holder {
  std::shared_ptr<void> p;  // the model, session or prefix (its type is the handle's)
  int64_t bytes;
};

inline void FreeHolder(napi_env env, void* data, void*) {
  auto* h = static_cast<Holder*>(data);
  int64_t ignored;
  if (h->p) napi_adjust_external_memory(env, -h->bytes, &ignored);
  delete h;
}

template <typename T>
inline napi_value WrapShared(napi_env env, std::shared_ptr<T> p, int64_t bytes, const char* what) {
  auto* holder = new Holder{std::const_pointer_cast<void>(std::static_pointer_cast<const void>(std::move(p))), bytes};
  napi_value out;
  if (napi_create_external(env, holder, FreeHolder, nullptr, &out) != napi_ok) {
    delete holder;
    napi_throw_error(env, nullptr, (std::string("ftgen_blas.") + what + ": N-API call failed").c_str());
    return nullptr;
  }
  int64_t ignored;
  napi_adjust_external_memory(env, bytes, &ignored);
  return out;
}

template <typename T>
inline std::shared_ptr<T> Unwrap(napi_env env, napi_value v, const char* what) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, nullptr, (std::string("ftgen_blas: ") + what + " must be a handle").c_str());
    return nullptr;
  }
  auto* h = static_cast<Holder*>(p);
  if (!h->p) {
    napi_throw_error(env, nullptr, (std::string("ftgen_blas: ") + what + " was freed").c_str());
    return nullptr;
  }
  return std::static_pointer_cast<T>(h->p);
}

// The handle a one-argument binding is called with; nullptr with an exception pending otherwise (a
// missing argument reads as undefined, which Unwrap refuses as "must be a handle").
template <typename T>
inline std::shared_ptr<T> OnlyHandle(napi_env env, napi_callback_info info, const char* what) {
  napi_value a[1];
  if (!Args(env, info, a, 0, "")) return nullptr;
  return Unwrap<T>(env, a[0], what);
}

}  // namespace napi_util
