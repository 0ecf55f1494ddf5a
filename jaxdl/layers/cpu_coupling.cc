// jaxdl's CPU kernels for the additive coupling with the quiz's h = Conv1x1 ∘ ReLU, on halves of the
// channels of NCHW images, called from JAX through XLA's FFI (see cpu_coupling.py).
//
// float32; C = 2 Ch channels, Ch a multiple of 8; P = H W pixels; `kept` is the half passed
// through (0: the first), `sign` +1 for the forward and -1 for the inverse:
//
//   CouplingApply(x, w (Ch, Ch), b (Ch)) -> y:  y_kept = x_kept,
//       y_shift[f, p] = x_shift[f, p] + sign (b[f] + sum_c w[f, c] relu(x_kept[c, p]))
//   CouplingBackward(x, dy, w) -> dx, dw, db:  dx_shift = dy_shift,
//       dx_kept[c, p] = dy_kept[c, p] + [x_kept[c, p] > 0] sum_f w[f, c] dy_shift[f, p],
//       dw[f, c] = sum_{n,p} dy_shift[f, p] relu(x_kept[c, p]),  db[f] = sum_{n,p} dy_shift[f, p]
//
// XLA runs the 1x1 convolution as a matrix product on pixel-major copies of the halves and
// transposes back; here each image is read once and written once, in channel-major order, the
// products kept in registers: 8 output channels by 32 pixels. Images are split between XLA's
// threads; dw and db sum fixed chunks of 8 images, then the chunks in order, so the results do
// not depend on the number of threads.
#include <algorithm>
#include <string>
#include <vector>

#include "cpu_kernels.h"

namespace ffi = xla::ffi;

namespace {

using jaxdl::load;
using jaxdl::store;
using jaxdl::v16;
constexpr int L = 16;      // pixels per vector
constexpr int FB = 8;      // output channels per block
constexpr int CHUNK = 8;   // images per dw / db partial sum

inline v16 relu(v16 v) { return (v > 0.0f) | (v != v) ? v : v16{}; }  // NaN stays NaN, as max(v, 0)

// out[f, p] = base[f, p] (0 without one) + sign b[f] + sum_c (sign m[f, c]) g(in[c, p]) for f in [0, Ch), p in [0, P):
// the forward's product (m = w, g = relu, no mask) and the backward's (m = w^T, g = identity,
// then masked by the caller's relu'). m is (Ch, Ch) row-major, already multiplied by sign.
template <bool kRelu>
void product(const float* in, const float* m, const float* bias, const float* base, float* out, int64_t Ch,
             int64_t P) {
  int64_t p = 0;
  for (; p + 2 * L <= P; p += 2 * L)
    for (int64_t f0 = 0; f0 < Ch; f0 += FB) {
      v16 a[FB], c[FB];
      for (int j = 0; j < FB; ++j) {
        const float bj = bias == nullptr ? 0.0f : bias[f0 + j];
        a[j] = (base == nullptr ? v16{} : load(base + (f0 + j) * P + p)) + bj;
        c[j] = (base == nullptr ? v16{} : load(base + (f0 + j) * P + p + L)) + bj;
      }
      for (int64_t k = 0; k < Ch; ++k) {
        v16 u = load(in + k * P + p), v = load(in + k * P + p + L);
        if (kRelu) { u = relu(u); v = relu(v); }
        JAXDL_IN_REGISTER(u); JAXDL_IN_REGISTER(v);
        for (int j = 0; j < FB; ++j) {
          const float mj = m[(f0 + j) * Ch + k];
          a[j] += mj * u;
          c[j] += mj * v;
        }
      }
      for (int j = 0; j < FB; ++j) { store(out + (f0 + j) * P + p, a[j]); store(out + (f0 + j) * P + p + L, c[j]); }
    }
  for (; p < P; ++p)  // the last pixels, one at a time
    for (int64_t f = 0; f < Ch; ++f) {
      float s = (base == nullptr ? 0.0f : base[f * P + p]) + (bias == nullptr ? 0.0f : bias[f]);
      for (int64_t k = 0; k < Ch; ++k) s += m[f * Ch + k] * (kRelu ? std::max(in[k * P + p], 0.0f) : in[k * P + p]);
      out[f * P + p] = s;
    }
}

struct Shape {
  int64_t n, ch, p;
};

ffi::Error check(const char* what, ffi::Buffer<ffi::F32>& x, ffi::Buffer<ffi::F32>& w, ffi::Buffer<ffi::F32>& other,
                 bool other_like_x, int64_t kept, Shape& s) {
  const auto xd = x.dimensions(), wd = w.dimensions(), od = other.dimensions();
  const bool other_ok = other_like_x ? std::equal(xd.begin(), xd.end(), od.begin(), od.end())
                                     : od.size() == 1 && xd.size() == 4 && od[0] * 2 == xd[1];
  if (xd.size() != 4 || wd.size() != 2 || xd[1] % 16 != 0 || wd[0] * 2 != xd[1] || wd[1] != wd[0] || !other_ok ||
      (kept != 0 && kept != 1))
    return ffi::Error::InvalidArgument(std::string(what) + ": expected x (N, C, H, W) with C % 16 == 0, w (C/2, C/2)"
                                       " and b (C/2) or dy shaped like x");
  s = Shape{xd[0], xd[1] / 2, xd[2] * xd[3]};
  return ffi::Error::Success();
}

ffi::Error Apply(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w, ffi::Buffer<ffi::F32> b,
                 ffi::ResultBuffer<ffi::F32> y, int64_t kept, int64_t sign) {
  Shape s;
  if (auto e = check("jaxdl_coupling_apply", x, w, b, false, kept, s); e.failure()) return e;
  const int64_t Ch = s.ch, P = s.p, half = Ch * P;
  std::vector<float> m(Ch * Ch), bias(Ch);
  for (int64_t i = 0; i < Ch * Ch; ++i) m[i] = sign * w.typed_data()[i];
  for (int64_t f = 0; f < Ch; ++f) bias[f] = sign * b.typed_data()[f];
  const float* xs = x.typed_data();
  float* ys = y->typed_data();
  jaxdl::parallel_for(pool, s.n, [&](int64_t n) {
    const float* xk = xs + (2 * n + kept) * half;
    const float* xh = xs + (2 * n + 1 - kept) * half;
    std::memcpy(ys + (2 * n + kept) * half, xk, half * sizeof(float));
    product<true>(xk, m.data(), bias.data(), xh, ys + (2 * n + 1 - kept) * half, Ch, P);
  });
  return ffi::Error::Success();
}

ffi::Error Backward(ffi::ThreadPool pool, ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> dy, ffi::Buffer<ffi::F32> w,
                    ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw, ffi::ResultBuffer<ffi::F32> db,
                    int64_t kept) {
  Shape s;
  if (auto e = check("jaxdl_coupling_backward", x, w, dy, true, kept, s); e.failure()) return e;
  const int64_t Ch = s.ch, P = s.p, half = Ch * P, chunks = (s.n + CHUNK - 1) / CHUNK;
  std::vector<float> wt(Ch * Ch);  // w^T: the backward's product runs over the output channels
  for (int64_t f = 0; f < Ch; ++f)
    for (int64_t c = 0; c < Ch; ++c) wt[c * Ch + f] = w.typed_data()[f * Ch + c];
  std::vector<float> parts(chunks * (Ch * Ch + Ch));  // per chunk: dw, then db
  const float* xs = x.typed_data();
  const float* dys = dy.typed_data();
  float* dxs = dx->typed_data();
  jaxdl::parallel_for(pool, chunks, [&](int64_t chunk) {
    float* pw = parts.data() + chunk * (Ch * Ch + Ch);
    float* pb = pw + Ch * Ch;
    const int64_t lo = chunk * CHUNK, hi = std::min(s.n, (chunk + 1) * CHUNK);
    std::vector<float> t(half);
    for (int64_t n = lo; n < hi; ++n) {
      const float* xk = xs + (2 * n + kept) * half;
      const float* dyh = dys + (2 * n + 1 - kept) * half;
      std::memcpy(dxs + (2 * n + 1 - kept) * half, dyh, half * sizeof(float));
      // dx_kept = dy_kept + relu'(x_kept) (w^T dy_shift): the product over all pixels, then the mask.
      product<false>(dyh, wt.data(), nullptr, nullptr, t.data(), Ch, P);
      const float* dyk = dys + (2 * n + kept) * half;
      float* dxk = dxs + (2 * n + kept) * half;
      for (int64_t i = 0; i < half; ++i) dxk[i] = dyk[i] + (xk[i] > 0.0f ? t[i] : 0.0f);
    }
    // dw[f, c] = sum over the chunk's images and pixels of dy_shift[f, p] relu(x_kept[c, p]), 4 f by
    // 4 c at a time, the pixels in the vector lanes (summed across the lanes once per chunk).
    auto lanes = [](v16 v) { float r = 0.0f; for (int l = 0; l < L; ++l) r += v[l]; return r; };
    const int64_t pv = P / L * L;
    for (int64_t f0 = 0; f0 < Ch; f0 += 4)
      for (int64_t c0 = 0; c0 < Ch; c0 += 4) {
        v16 acc[4][4] = {};
        float tail[4][4] = {};
        for (int64_t n = lo; n < hi; ++n) {
          const float* xk = xs + (2 * n + kept) * half;
          const float* dyh = dys + (2 * n + 1 - kept) * half;
          for (int64_t p = 0; p < pv; p += L) {
            v16 d0 = load(dyh + f0 * P + p), d1 = load(dyh + (f0 + 1) * P + p), d2 = load(dyh + (f0 + 2) * P + p),
                d3 = load(dyh + (f0 + 3) * P + p);
            for (int j = 0; j < 4; ++j) {
              const v16 r = relu(load(xk + (c0 + j) * P + p));
              acc[0][j] += d0 * r; acc[1][j] += d1 * r; acc[2][j] += d2 * r; acc[3][j] += d3 * r;
            }
          }
          for (int64_t p = pv; p < P; ++p)
            for (int i = 0; i < 4; ++i)
              for (int j = 0; j < 4; ++j) tail[i][j] += dyh[(f0 + i) * P + p] * std::max(xk[(c0 + j) * P + p], 0.0f);
        }
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) pw[(f0 + i) * Ch + c0 + j] = lanes(acc[i][j]) + tail[i][j];
      }
    for (int64_t f = 0; f < Ch; ++f) {
      v16 acc = {};
      float tail = 0.0f;
      for (int64_t n = lo; n < hi; ++n) {
        const float* row = dys + (2 * n + 1 - kept) * half + f * P;
        for (int64_t p = 0; p < pv; p += L) acc += load(row + p);
        for (int64_t p = pv; p < P; ++p) tail += row[p];
      }
      pb[f] = lanes(acc) + tail;
    }
  });
  float* dws = dw->typed_data();
  float* dbs = db->typed_data();
  for (int64_t i = 0; i < Ch * Ch + Ch; ++i) {
    float v = 0.0f;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) v += parts[chunk * (Ch * Ch + Ch) + i];
    (i < Ch * Ch ? dws[i] : dbs[i - Ch * Ch]) = v;
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlCouplingApply, Apply,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("kept")
                                  .Attr<int64_t>("sign"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(JaxdlCouplingBackward, Backward,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Attr<int64_t>("kept"));
