// Moving image batches to the device, and memory formats.
#include "batch.h"

#include <cstring>

#include "guard.h"

using chara::handle;

namespace {

// upload copies n bytes of host memory (valid only for the call) to a new
// tensor of the given shape and type on the CPU (device < 0) or a CUDA
// device. To a GPU it goes through page-locked memory from libtorch's
// caching host allocator and a non-blocking copy: the call returns without
// waiting for the GPU's queue (a copy from pageable memory waits for every
// kernel queued before it), and the allocator reuses the page-locked block
// only once the copy that read it has finished.
at::Tensor upload(const void *src, at::IntArrayRef shape, at::ScalarType dtype, int device) {
  auto opts = at::TensorOptions().dtype(dtype);
  if (device < 0) {
    at::Tensor t = at::empty(shape, opts);
    std::memcpy(t.data_ptr(), src, t.nbytes());
    return t;
  }
  at::Tensor pinned = at::empty(shape, opts.pinned_memory(true));
  std::memcpy(pinned.data_ptr(), src, pinned.nbytes());
  return pinned.to(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device)), /*non_blocking=*/true);
}

}  // namespace

extern "C" {

char *chara_image_batch(const uint8_t *pix, int64_t n, int64_t c, int64_t h, int64_t w, int device,
                        void *scale, void *shift, int channels_last, void **out) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    at::Tensor x;
    if (device < 0) {
      // A view of the caller's memory, read once by the conversion to float:
      // no extra host copy.
      at::Tensor u8 = at::from_blob(const_cast<uint8_t *>(pix), {n, c, h, w}, at::TensorOptions().dtype(at::kByte));
      x = u8.to(at::kFloat);
    } else {
      x = upload(pix, {n, c, h, w}, at::kByte, device).to(at::kFloat);
    }
    x.mul_(handle(scale)).add_(handle(shift));
    if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    *out = new at::Tensor(std::move(x));
  });
}

char *chara_labels(const int64_t *y, int64_t n, int device, void **out) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    *out = new at::Tensor(upload(y, {n}, at::kLong, device));
  });
}

char *chara_channels_last(void **tensors, int n) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    for (int i = 0; i < n; i++) {
      at::Tensor &t = handle(tensors[i]);
      if (t.dim() == 4) t.set_data(t.contiguous(at::MemoryFormat::ChannelsLast));
    }
  });
}
}
