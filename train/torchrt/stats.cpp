// Training-step statistics kept on the device, so that a GPU step needs no
// read back to the host (each read waits for every kernel queued before it).
#include "stats.h"

#include "guard.h"

using chara::handle;

extern "C" {

char *chara_stats_new(int device, void **out) {
  return chara::guarded([&] {
    auto opts = at::TensorOptions().dtype(at::kDouble);
    if (device >= 0) opts = opts.device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device)));
    *out = new at::Tensor(at::zeros({2}, opts));
  });
}

char *chara_stats_add(void *acc, void *loss, void *logits, void *labels, int64_t n) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    at::Tensor &a = handle(acc);
    a.narrow(0, 0, 1).add_(handle(loss).detach().to(at::kDouble).reshape({1}), static_cast<double>(n));
    a.narrow(0, 1, 1).add_(handle(logits).argmax(1).eq(handle(labels)).sum().to(at::kDouble).reshape({1}));
  });
}

char *chara_stats_take(void *acc, double *loss_sum, double *correct) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    at::Tensor &a = handle(acc);
    at::Tensor h = a.to(at::kCPU);
    const double *v = h.data_ptr<double>();
    *loss_sum = v[0];
    *correct = v[1];
    a.zero_();
  });
}
}
