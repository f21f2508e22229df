// Moving image batches to the device, and memory formats.
#include "batch.h"

#include "guard.h"

using chara::handle;

extern "C" {

char *chara_image_batch(const uint8_t *pix, int64_t n, int64_t c, int64_t h, int64_t w, int device,
                        void *scale, void *shift, int channels_last, void **out) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    // A view of the caller's memory, read once: by the (synchronous) copy to
    // the GPU, or by the conversion to float on the CPU. No extra host copy.
    at::Tensor u8 = at::from_blob(const_cast<uint8_t *>(pix), {n, c, h, w}, at::TensorOptions().dtype(at::kByte));
    at::Tensor x = device < 0 ? u8.to(at::kFloat)
                              : u8.to(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device))).to(at::kFloat);
    x.mul_(handle(scale)).add_(handle(shift));
    if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    *out = new at::Tensor(std::move(x));
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
