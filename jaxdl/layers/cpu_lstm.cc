// jaxdl's CPU kernels for the LSTM's time loop, called from JAX through XLA's FFI (see cpu_lstm.py).
//
// float32, time-major, gates in the blocks [i f g o] of H columns each (G = 4H), H a multiple of 16:
//
//   LstmForward(xw (T, N, G), w_h (H, G)) -> i, f, g, o, c, h (T, N, H) each:
//     a(t) = xw(t) + h(t-1) w_h,  i f o = sigmoid,  g = tanh,  c(t) = f c(t-1) + i g,  h(t) = o tanh(c(t))
//   LstmBackward(dy (T, N, H), i, f, g, o, c (T, N, H), w_h (H, G)) -> da (T, N, G):
//     dh = dy(t) + da(t+1) w_h^T,  dc = dc(t+1) f(t+1) + dh o (1 - tanh^2 c(t)),
//     da = [dc g i(1-i), dc c(t-1) f(1-f), dc i (1-g^2), dh tanh(c(t)) o(1-o)]
//
// The whole loop runs in one call: XLA's while loop spends more per time step on its own
// bookkeeping than the step's arithmetic takes here. A row of the batch depends only on its own
// past, so the rows are split between XLA's threads for all time steps at once (no barrier per
// step), and each row's arithmetic is the same whatever the split: the results do not depend on
// the number of threads or devices. Blocks of 4 rows by 16 hidden units keep 16 accumulators in
// registers (one AVX-512 register each, or two AVX2 ones); exp, sigmoid and tanh are computed
// on whole vectors (below): sigmoid within 3 float32 ulp of the exact value, tanh within 6, as
// XLA's own are (tests/test_cpu_lstm.py).
#include <algorithm>
#include <vector>

#include "cpu_kernels.h"

namespace ffi = xla::ffi;

namespace {

using jaxdl::load;
using jaxdl::store;
using jaxdl::v16;
typedef int32_t i16 __attribute__((vector_size(64)));
constexpr int L = 16;     // hidden units per vector
constexpr int RB = 4;     // rows per block
constexpr int SHARE = 32;  // rows per parallel task

inline v16 splat(float x) { return v16{} + x; }

// e^x: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7 (error < 6e-9 relative),
// 2^n put in the exponent bits. Clamped to float32's finite range (sigmoid and tanh only need
// the saturation).
inline v16 vexp(v16 x) {
  x = x < -87.0f ? splat(-87.0f) : x;
  x = x > 88.0f ? splat(88.0f) : x;
  const v16 magic = splat(12582912.0f);  // 1.5 * 2^23: adding and subtracting it rounds to an integer
  v16 n = (x * 1.44269504088896341f + magic) - magic;
  v16 r = x - n * 0.693145751953125f;    // ln 2 in two parts: the first exact in float32
  r = r - n * 1.428606765330187e-06f;
  v16 p = splat(1.0f / 5040);
  p = p * r + 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const i16 bits = (__builtin_convertvector(n, i16) + 127) << 23;
  v16 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline v16 vsigmoid(v16 x) { return 1.0f / (1.0f + vexp(-x)); }

// tanh: 1 - 2 / (e^(2x) + 1) away from 0; near 0 (|x| < 0.3, where that formula cancels) its odd
// Taylor series to x^13.
inline v16 vtanh(v16 x) {
  const v16 far = 1.0f - 2.0f / (vexp(x + x) + 1.0f);
  const v16 x2 = x * x;
  v16 p = splat(21844.0f / 6081075);
  p = p * x2 - 1382.0f / 155925;
  p = p * x2 + 62.0f / 2835;
  p = p * x2 - 17.0f / 315;
  p = p * x2 + 2.0f / 15;
  p = p * x2 - 1.0f / 3;
  const v16 near = x + x * x2 * p;
  return x2 < 0.09f ? near : far;
}

// W_h (H, 4H) packed for the forward: per 16 hidden units, [k][gate][16] (16 KB at H = 64, read
// from L1 by every row of a share).
std::vector<float> pack_forward(const float* w, int64_t H) {
  const int64_t G = 4 * H;
  std::vector<float> p(H * G);
  for (int64_t ub = 0; ub < H / L; ++ub)
    for (int64_t k = 0; k < H; ++k)
      for (int64_t q = 0; q < 4; ++q)
        for (int64_t j = 0; j < L; ++j) p[((ub * H + k) * 4 + q) * L + j] = w[k * G + q * H + ub * L + j];
  return p;
}

// W_h's transpose packed for the backward: per 16 hidden units, [k of 4H][16].
std::vector<float> pack_backward(const float* w, int64_t H) {
  const int64_t G = 4 * H;
  std::vector<float> p(H * G);
  for (int64_t ub = 0; ub < H / L; ++ub)
    for (int64_t k = 0; k < G; ++k)
      for (int64_t j = 0; j < L; ++j) p[(ub * G + k) * L + j] = w[(ub * L + j) * G + k];
  return p;
}

// Step t of the forward for rows [n0, n0 + R) and hidden units [u, u + 16).
template <int R>
inline void forward_block(const float* xw, const float* hp, const float* cp, const float* wu, int64_t N, int64_t H,
                          int64_t t, int64_t n0, int64_t u, float* const* out) {
  const int64_t G = 4 * H;
  v16 acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q) acc[r][q] = load(xw + (n0 + r) * G + q * H + u);
  if (hp != nullptr)  // h(-1) = 0
    for (int64_t k = 0; k < H; ++k) {
      const float* wk = wu + k * 4 * L;
      v16 w0 = load(wk), w1 = load(wk + L), w2 = load(wk + 2 * L), w3 = load(wk + 3 * L);
      JAXDL_IN_REGISTER(w0); JAXDL_IN_REGISTER(w1); JAXDL_IN_REGISTER(w2); JAXDL_IN_REGISTER(w3);
      for (int r = 0; r < R; ++r) {
        const float hk = hp[(n0 + r) * H + k];
        acc[r][0] += hk * w0; acc[r][1] += hk * w1; acc[r][2] += hk * w2; acc[r][3] += hk * w3;
      }
    }
  for (int r = 0; r < R; ++r) {
    const int64_t at = (t * N + n0 + r) * H + u;
    const v16 i = vsigmoid(acc[r][0]), f = vsigmoid(acc[r][1]), g = vtanh(acc[r][2]), o = vsigmoid(acc[r][3]);
    const v16 c = (cp == nullptr ? v16{} : f * load(cp + (n0 + r) * H + u)) + i * g;
    store(out[0] + at, i); store(out[1] + at, f); store(out[2] + at, g); store(out[3] + at, o);
    store(out[4] + at, c); store(out[5] + at, o * vtanh(c));
  }
}

// Step t of the backward for rows [n0, n0 + R) and hidden units [u, u + 16 UB); dc carries δc.
template <int R, int UB>
inline void backward_block(const float* dy, const float* const* res, const float* wp, const float* next, float* da,
                           float* dc, int64_t T, int64_t N, int64_t H, int64_t t, int64_t n0, int64_t u) {
  const int64_t G = 4 * H, S = N * H;
  v16 dh[R][UB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < UB; ++b) dh[r][b] = load(dy + (t * N + n0 + r) * H + u + b * L);
  if (next != nullptr)
    for (int64_t k = 0; k < G; ++k) {
      const float* wk = wp + ((u / L) * G + k) * L;  // the next blocks of units G L floats apart
      v16 w0 = load(wk), w1 = UB > 1 ? load(wk + G * L) : v16{}, w2 = UB > 2 ? load(wk + 2 * G * L) : v16{},
          w3 = UB > 3 ? load(wk + 3 * G * L) : v16{};
      JAXDL_IN_REGISTER(w0); JAXDL_IN_REGISTER(w1); JAXDL_IN_REGISTER(w2); JAXDL_IN_REGISTER(w3);
      for (int r = 0; r < R; ++r) {
        const float nk = next[(n0 + r) * G + k];
        dh[r][0] += nk * w0;
        if (UB > 1) dh[r][1] += nk * w1;
        if (UB > 2) dh[r][2] += nk * w2;
        if (UB > 3) dh[r][3] += nk * w3;
      }
    }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < UB; ++b) {
      const int64_t at = (t * N + n0 + r) * H + u + b * L;
      const v16 i = load(res[0] + at), f = load(res[1] + at), g = load(res[2] + at), o = load(res[3] + at);
      const v16 tc = vtanh(load(res[4] + at));
      float* dcr = dc + (n0 + r) * H + u + b * L;
      const v16 d = (t == T - 1 ? v16{} : load(dcr)) + dh[r][b] * o * (1.0f - tc * tc);
      const v16 cprev = t == 0 ? v16{} : load(res[4] + at - S);
      float* dst = da + (t * N + n0 + r) * G + u + b * L;
      store(dst, d * g * i * (1.0f - i));
      store(dst + H, d * cprev * f * (1.0f - f));
      store(dst + 2 * H, d * i * (1.0f - g * g));
      store(dst + 3 * H, dh[r][b] * tc * o * (1.0f - o));
      store(dcr, d * f);
    }
}

// body.template run<R>(n0) over the rows [lo, hi) in blocks of RB, the last block shorter.
template <typename Body>
inline void row_blocks(int64_t lo, int64_t hi, const Body& body) {
  int64_t n0 = lo;
  for (; n0 + RB <= hi; n0 += RB) body.template run<RB>(n0);
  switch (hi - n0) {
    case 3: body.template run<3>(n0); break;
    case 2: body.template run<2>(n0); break;
    case 1: body.template run<1>(n0); break;
    default: break;
  }
}

struct ForwardStep {
  const float *xw, *hp, *cp, *wu;
  int64_t N, H, t, u;
  float* const* out;
  template <int R>
  void run(int64_t n0) const { forward_block<R>(xw, hp, cp, wu, N, H, t, n0, u, out); }
};

struct BackwardStep {  // all hidden units of a block of rows, 64 at a time (their δa(t+1) stays in L1)
  const float* dy;
  const float* const* res;
  const float *wp, *next;
  float *da, *dc;
  int64_t T, N, H, t;
  template <int R>
  void run(int64_t n0) const {
    for (int64_t u = 0; u < H; u += 4 * L) {
      switch (std::min<int64_t>(4, (H - u) / L)) {
        case 4: backward_block<R, 4>(dy, res, wp, next, da, dc, T, N, H, t, n0, u); break;
        case 3: backward_block<R, 3>(dy, res, wp, next, da, dc, T, N, H, t, n0, u); break;
        case 2: backward_block<R, 2>(dy, res, wp, next, da, dc, T, N, H, t, n0, u); break;
        default: backward_block<R, 1>(dy, res, wp, next, da, dc, T, N, H, t, n0, u); break;
      }
    }
  }
};

// Rows [lo, hi) through every time step, a block of 16 hidden units at a time for all the rows
// (its slice of W_h then stays in L1).
void forward_rows(const float* xw, const float* wp, int64_t T, int64_t N, int64_t H, int64_t lo, int64_t hi,
                  float* const* out) {
  const int64_t G = 4 * H, S = N * H;
  for (int64_t t = 0; t < T; ++t)
    for (int64_t u = 0; u < H; u += L)
      row_blocks(lo, hi, ForwardStep{xw + t * N * G, t == 0 ? nullptr : out[5] + (t - 1) * S,
                                     t == 0 ? nullptr : out[4] + (t - 1) * S, wp + u * 4 * H, N, H, t, u, out});
}

void backward_rows(const float* dy, const float* const* res, const float* wp, int64_t T, int64_t N, int64_t H,
                   int64_t lo, int64_t hi, float* da, float* dc) {
  const int64_t G = 4 * H;
  for (int64_t t = T - 1; t >= 0; --t)
    row_blocks(lo, hi, BackwardStep{dy, res, wp, t == T - 1 ? nullptr : da + (t + 1) * N * G, da, dc, T, N, H, t});
}

ffi::Error LstmForward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> xw, ffi::Buffer<ffi::F32> w, ffi::ResultBuffer<ffi::F32> i,
                       ffi::ResultBuffer<ffi::F32> f, ffi::ResultBuffer<ffi::F32> g, ffi::ResultBuffer<ffi::F32> o,
                       ffi::ResultBuffer<ffi::F32> c, ffi::ResultBuffer<ffi::F32> h) {
  const auto dims = xw.dimensions();
  if (dims.size() != 3 || w.dimensions().size() != 2 || dims[2] % 64 != 0 || w.dimensions()[1] != dims[2] ||
      w.dimensions()[0] * 4 != dims[2])
    return ffi::Error::InvalidArgument("jaxdl_lstm_forward: expected xw (T, N, 4H) and w_h (H, 4H), H % 16 == 0");
  const int64_t T = dims[0], N = dims[1], H = dims[2] / 4;
  float* const out[6] = {i->typed_data(), f->typed_data(), g->typed_data(), o->typed_data(), c->typed_data(),
                         h->typed_data()};
  const float* xs = xw.typed_data();
  const std::vector<float> wp = pack_forward(w.typed_data(), H);
  jaxdl::parallel_for(pool, (N + SHARE - 1) / SHARE, [&](int64_t k) {
    forward_rows(xs, wp.data(), T, N, H, k * SHARE, std::min(N, (k + 1) * SHARE), &out[0]);
  });
  return ffi::Error::Success();
}

ffi::Error LstmBackward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> dy, ffi::Buffer<ffi::F32> i, ffi::Buffer<ffi::F32> f,
                        ffi::Buffer<ffi::F32> g, ffi::Buffer<ffi::F32> o, ffi::Buffer<ffi::F32> c,
                        ffi::Buffer<ffi::F32> w, ffi::ResultBuffer<ffi::F32> da) {
  const auto dims = dy.dimensions();
  if (dims.size() != 3 || dims[2] % L != 0 || w.dimensions().size() != 2 || w.dimensions()[0] != dims[2] ||
      w.dimensions()[1] != 4 * dims[2])
    return ffi::Error::InvalidArgument("jaxdl_lstm_backward: expected dy (T, N, H) and w_h (H, 4H), H % 16 == 0");
  for (const auto* r : {&i, &f, &g, &o, &c}) {
    const auto rd = r->dimensions();
    if (!std::equal(rd.begin(), rd.end(), dims.begin(), dims.end()))
      return ffi::Error::InvalidArgument("jaxdl_lstm_backward: the gates and states must be shaped like dy (T, N, H)");
  }
  const int64_t T = dims[0], N = dims[1], H = dims[2];
  const float* const res[5] = {i.typed_data(), f.typed_data(), g.typed_data(), o.typed_data(), c.typed_data()};
  std::vector<float> dc(N * H);
  const float* dys = dy.typed_data();
  const std::vector<float> wp = pack_backward(w.typed_data(), H);
  float* das = da->typed_data();
  float* dcs = dc.data();
  jaxdl::parallel_for(pool, (N + SHARE - 1) / SHARE, [&](int64_t k) {
    backward_rows(dys, &res[0], wp.data(), T, N, H, k * SHARE, std::min(N, (k + 1) * SHARE), das, dcs);
  });
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlLstmForward, LstmForward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlLstmBackward, LstmBackward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>());
