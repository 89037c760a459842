// A fixed pool of worker threads for the inference runtime (llm.cc): Run(n, body) calls
// body(item, worker) for item in [0, n), items handed out one at a time, the calling thread
// working too. Workers spin briefly between jobs (a decoding step is ~100 jobs of ~0.1–1 ms) and
// then sleep on a condition variable, so an idle pool costs nothing.
//
// OpenBLAS is held to one thread while a job runs, so each worker's GEMMs run on that worker and
// OpenBLAS's own threads never compete with the pool for the cores.
#pragma once
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : size_(std::max(1, threads)) {
    for (int w = 1; w < size_; w++) workers_.emplace_back([this, w] { Loop(w); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // body(item, worker) for every item in [0, n); returns when all are done.
  void Run(int64_t n, const std::function<void(int64_t, int)>& body) {
    if (n <= 0) return;
    if (size_ == 1 || n == 1) {
      for (int64_t i = 0; i < n; i++) body(i, 0);
      return;
    }
    body_ = &body;
    n_ = n;
    next_.store(0);
    busy_.store(size_ - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    Work(0);
    while (busy_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    body_ = nullptr;
  }

 private:
  void Work(int worker) {
    for (int64_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*body_)(i, worker);
  }

  void Loop(int worker) {
    // Generation 0 is the pool's start: a job (or the stop) posted before this thread first runs
    // has already moved it on, and is seen.
    uint64_t seen = 0;
    for (;;) {
      // Spin a little for the next job before sleeping: jobs come in quick succession.
      for (int spin = 0; spin < 20000 && generation_.load(std::memory_order_acquire) == seen; spin++) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      }
      if (generation_.load(std::memory_order_acquire) == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
      }
      seen = generation_.load();
      if (stop_) return;
      Work(worker);
      busy_.fetch_sub(1, std::memory_order_release);
    }
  }

  const int size_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> busy_{0};
  int64_t n_ = 0;
  const std::function<void(int64_t, int)>* body_ = nullptr;
  std::atomic<bool> stop_{false};
};

// Holds OpenBLAS to one thread for a scope (each pool worker runs its own single-threaded GEMMs).
class BlasSingleThread {
 public:
  BlasSingleThread() : before_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
  ~BlasSingleThread() { openblas_set_num_threads(before_); }

 private:
  int before_;
};
