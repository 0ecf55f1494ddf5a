// jaxdl's CPU convolution kernels, called from JAX through XLA's FFI (see cpu_conv.py).
//
// float32, NCHW, stride 1, explicit zero padding (lo, hi) per spatial axis. Two kernels:
//
//   ConvForward:  y[n, f, o, p]   = sum_{c,i,j} x_pad[n, c, o + i, p + j] * w[f, c, i, j]
//   ConvWeight:   dw[f, c, i, j]  = sum_{n,o,p} dy[n, f, o, p] * x_pad[n, c, o + i, p + j]
//
// The input gradient is ConvForward applied to dy with the transposed, rotated kernel (cpu_conv.py).
//
// Both hold 16 filters in one vector (GCC's vector extension: one AVX-512 register, or two AVX2
// ones) and keep a block of accumulators in registers: ConvForward 14 output columns of one
// output row, ConvWeight 12 kernel taps (c, i, j). Every image is padded once into a private
// buffer (cpu_kernels.py compiles with -fno-predictive-commoning: GCC otherwise carries the
// forward's inputs from one tap to the next in scalar registers, 1.4x slower). Images are shared
// between XLA's threads; ConvWeight sums fixed chunks of 8 images, then the chunks in order, so
// its result does not depend on the number of threads.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu_kernels.h"

namespace ffi = xla::ffi;

namespace {

using jaxdl::load;
using jaxdl::store;
using jaxdl::v16;
constexpr int L = 16;       // filters per vector
constexpr int PB = 14;      // output columns per forward block
constexpr int R = 12;       // kernel taps per weight-gradient block
constexpr int CHUNK = 8;    // images per weight-gradient partial sum

struct Geometry {
  int64_t n, c, h, w, hp, wp;
  int64_t plo, qlo;
};

// x[n] zero-padded into buf (C, hp, row) with the image at (plo, qlo).
void pad_image(const float* x, const Geometry& g, int64_t row, float* buf) {
  for (int64_t c = 0; c < g.c; ++c)
    for (int64_t h = 0; h < g.h; ++h)
      std::memcpy(buf + (c * g.hp + h + g.plo) * row + g.qlo, x + (c * g.h + h) * g.w, g.w * sizeof(float));
}

ffi::Error Forward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::ResultBuffer<ffi::F32> y,
                   int64_t plo, int64_t phi, int64_t qlo, int64_t qhi) {
  const auto xd = x.dimensions(), wd = w.dimensions(), yd = y->dimensions();
  if (xd.size() != 4 || wd.size() != 4 || yd.size() != 4 || wd[1] != xd[1] || std::min({plo, phi, qlo, qhi}) < 0)
    return ffi::Error::InvalidArgument("jaxdl cpu_conv forward: bad shapes or negative padding");
  const Geometry g{xd[0], xd[1], xd[2], xd[3], xd[2] + plo + phi, xd[3] + qlo + qhi, plo, qlo};
  const int64_t F = wd[0], KH = wd[2], KW = wd[3], Ho = g.hp - KH + 1, Wo = g.wp - KW + 1;
  if (Ho != yd[2] || Wo != yd[3] || yd[0] != g.n || yd[1] != F)
    return ffi::Error::InvalidArgument("jaxdl cpu_conv forward: the output shape does not match");
  const int64_t K = g.c * KH * KW, FB = (F + L - 1) / L, WB = (Wo + PB - 1) / PB;
  const int64_t row = WB * PB + KW;  // room for the last block's reads past the image
  // The kernel as (filter block, tap, 16 filters), zeros past F.
  std::vector<float> packed(FB * K * L, 0.f);
  for (int64_t f = 0; f < F; ++f)
    for (int64_t k = 0; k < K; ++k) packed[((f / L) * K + k) * L + f % L] = w.typed_data()[f * K + k];
  const float* xs = x.typed_data();
  float* ys = y->typed_data();
  jaxdl::parallel_for(pool, g.n, [&](int64_t n) {
    std::vector<float> xp(g.c * g.hp * row, 0.f);
    pad_image(xs + n * g.c * g.h * g.w, g, row, xp.data());
    alignas(64) float out[PB][L];
    for (int64_t fb = 0; fb < FB; ++fb)
      for (int64_t o = 0; o < Ho; ++o)
        for (int64_t b = 0; b < WB; ++b) {
          v16 acc[PB] = {};
          const float* wv = packed.data() + fb * K * L;
          for (int64_t c = 0; c < g.c; ++c)
            for (int64_t i = 0; i < KH; ++i) {
              const float* xr = xp.data() + (c * g.hp + o + i) * row + b * PB;
              for (int64_t j = 0; j < KW; ++j, wv += L) {
                const v16 wvec = load(wv);
#pragma GCC unroll 14
                for (int q = 0; q < PB; ++q) acc[q] += xr[q + j] * wvec;
              }
            }
          for (int q = 0; q < PB; ++q) store(out[q], acc[q]);
          const int64_t nf = std::min<int64_t>(L, F - fb * L), nq = std::min<int64_t>(PB, Wo - b * PB);
          for (int64_t l = 0; l < nf; ++l) {
            float* yr = ys + ((n * F + fb * L + l) * Ho + o) * Wo + b * PB;
            for (int64_t q = 0; q < nq; ++q) yr[q] = out[q][l];
          }
        }
  });
  return ffi::Error::Success();
}

ffi::Error Weight(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> dy, ffi::ResultBuffer<ffi::F32> dw,
                  int64_t plo, int64_t phi, int64_t qlo, int64_t qhi) {
  const auto xd = x.dimensions(), dd = dy.dimensions(), wd = dw->dimensions();
  if (xd.size() != 4 || dd.size() != 4 || wd.size() != 4 || dd[0] != xd[0] || wd[0] != dd[1] || wd[1] != xd[1] ||
      std::min({plo, phi, qlo, qhi}) < 0)
    return ffi::Error::InvalidArgument("jaxdl cpu_conv weight: bad shapes or negative padding");
  const Geometry g{xd[0], xd[1], xd[2], xd[3], xd[2] + plo + phi, xd[3] + qlo + qhi, plo, qlo};
  const int64_t F = dd[1], Ho = dd[2], Wo = dd[3], KH = wd[2], KW = wd[3];
  if (Ho != g.hp - KH + 1 || Wo != g.wp - KW + 1)
    return ffi::Error::InvalidArgument("jaxdl cpu_conv weight: the gradient's shape does not match");
  const int64_t K = g.c * KH * KW, FB = (F + L - 1) / L, KB = (K + R - 1) / R, P = Ho * Wo;
  const int64_t chunks = (g.n + CHUNK - 1) / CHUNK, part_size = FB * KB * R * L;
  std::vector<int64_t> offset(KB * R, 0);  // tap k = (c, i, j): its offset in a padded image
  for (int64_t k = 0; k < K; ++k)
    offset[k] = (k / (KH * KW) * g.hp + (k / KW) % KH) * g.wp + k % KW;
  std::vector<float> parts(chunks * part_size, 0.f);
  const float* xs = x.typed_data();
  const float* ds = dy.typed_data();
  jaxdl::parallel_for(pool, chunks, [&](int64_t chunk) {
    std::vector<float> xp(g.c * g.hp * g.wp), dyt(FB * P * L);
    float* part = parts.data() + chunk * part_size;
    for (int64_t n = chunk * CHUNK; n < std::min<int64_t>(g.n, (chunk + 1) * CHUNK); ++n) {
      std::fill(xp.begin(), xp.end(), 0.f);
      pad_image(xs + n * g.c * g.h * g.w, g, g.wp, xp.data());
      std::fill(dyt.begin(), dyt.end(), 0.f);  // dy[n] as (filter block, position, 16 filters)
      for (int64_t f = 0; f < F; ++f)
        for (int64_t p = 0; p < P; ++p) dyt[((f / L) * P + p) * L + f % L] = ds[(n * F + f) * P + p];
      for (int64_t fb = 0; fb < FB; ++fb)
        for (int64_t kb = 0; kb < KB; ++kb) {
          v16 acc[R] = {};
          const int64_t* off = offset.data() + kb * R;
          for (int64_t o = 0; o < Ho; ++o)
            for (int64_t p = 0; p < Wo; ++p) {
              const v16 v = load(dyt.data() + (fb * P + o * Wo + p) * L);
              const float* xb = xp.data() + o * g.wp + p;
#pragma GCC unroll 12
              for (int r = 0; r < R; ++r) acc[r] += xb[off[r]] * v;
            }
          float* dst = part + (fb * KB + kb) * R * L;
          for (int r = 0; r < R; ++r) store(dst + r * L, load(dst + r * L) + acc[r]);
        }
    }
  });
  float* out = dw->typed_data();
  for (int64_t f = 0; f < F; ++f)
    for (int64_t k = 0; k < K; ++k) {
      float s = 0.f;
      for (int64_t chunk = 0; chunk < chunks; ++chunk) s += parts[chunk * part_size + ((f / L) * KB * R + k) * L + f % L];
      out[f * K + k] = s;
    }
  return ffi::Error::Success();
}

}  // namespace

#define JAXDL_CONV_BINDING                                                                              \
  ffi::Ffi::Bind().Ctx<ffi::ThreadPool>().Arg<ffi::Buffer<ffi::F32>>().Arg<ffi::Buffer<ffi::F32>>().Ret<ffi::Buffer<ffi::F32>>() \
      .Attr<int64_t>("plo").Attr<int64_t>("phi").Attr<int64_t>("qlo").Attr<int64_t>("qhi")

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlConvForward, Forward, JAXDL_CONV_BINDING);
XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlConvWeight, Weight, JAXDL_CONV_BINDING);
