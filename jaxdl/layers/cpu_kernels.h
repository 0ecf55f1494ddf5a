// What jaxdl's CPU kernels (cpu_conv.cc, cpu_lstm.cc, cpu_coupling.cc) share: 16-float vectors and a parallel loop
// on XLA's own intra-op threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>

#include "xla/ffi/api/ffi.h"

namespace jaxdl {

// 16 floats: one AVX-512 register, or two AVX2 ones (GCC's vector extension).
typedef float v16 __attribute__((vector_size(64)));

inline v16 load(const float* p) { v16 v; std::memcpy(&v, p, sizeof v); return v; }
inline void store(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }

// Keeps a loaded vector in a register: GCC otherwise folds a load reused by several
// multiply-adds into each of them, and the loads, not the arithmetic, then bound the loop.
#if defined(__x86_64__)
#define JAXDL_IN_REGISTER(v) asm("" : "+v"(v))
#else
#define JAXDL_IN_REGISTER(v) ((void)0)
#endif

// fn(k) for k in [0, n), on XLA's intra-op threads and the calling thread. Threads of their own
// would compete for the cores with XLA's, which keep spinning a while after each operation; here
// each index runs once, on whichever thread claims it first, so fn(k) must depend on k alone (the
// results then do not depend on the threads). The caller claims indices too, so the loop ends even
// when every pool thread is busy; a task that starts after it ended finds nothing left to claim
// (its counters are its own, on the heap) and returns.
template <typename Fn>
void parallel_for(xla::ffi::ThreadPool& pool, int64_t n, const Fn& fn) {
  struct Counters {
    std::atomic<int64_t> next{0}, done{0};
  };
  const int64_t helpers = std::min<int64_t>(pool.num_threads(), n) - 1;
  if (helpers <= 0) {
    for (int64_t k = 0; k < n; ++k) fn(k);
    return;
  }
  auto counters = std::make_shared<Counters>();
  const Fn* body = &fn;
  auto work = [counters, body, n] {
    for (int64_t k; (k = counters->next.fetch_add(1)) < n;) {
      (*body)(k);
      counters->done.fetch_add(1, std::memory_order_release);
    }
  };
  for (int64_t h = 0; h < helpers; ++h) pool.Schedule(decltype(work)(work));  // a copy per task
  work();
  while (counters->done.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

}  // namespace jaxdl
