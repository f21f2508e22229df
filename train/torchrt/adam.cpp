// Adam as PyTorch's multi-tensor implementation (torch.optim.Adam with
// foreach=True) computes it: one _foreach_ call per arithmetic step for all
// parameters together. On CUDA each call is a few fused kernel launches
// instead of one per parameter; on the CPU it runs the same in-place loop
// in C++ without a cgo call or an allocation per tensor.
#include "adam.h"

#include <cmath>
#include <vector>

#include "guard.h"

using chara::handle;

extern "C" {

char *chara_adam_step(void **params, void **exp_avgs, void **exp_avg_sqs, int n,
                      double lr, double beta1, double beta2, double eps,
                      double weight_decay, int64_t step) {
  return chara::guarded([&] {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> p, g, m, v;
    p.reserve(n);
    g.reserve(n);
    m.reserve(n);
    v.reserve(n);
    for (int i = 0; i < n; i++) {
      at::Tensor &param = handle(params[i]);
      const at::Tensor &grad = param.grad();
      if (!grad.defined()) continue;  // not used in this forward pass
      p.push_back(param);
      g.push_back(grad);
      m.push_back(handle(exp_avgs[i]));
      v.push_back(handle(exp_avg_sqs[i]));
    }
    if (p.empty()) return;
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
    std::vector<at::Tensor> grads = g;
    if (weight_decay != 0) grads = at::_foreach_add(g, p, weight_decay);
    // m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
    at::_foreach_mul_(m, beta1);
    at::_foreach_add_(m, grads, 1 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, grads, grads, 1 - beta2);
    // p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
    std::vector<at::Tensor> denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bc2));
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(p, m, denom, -lr / bc1);
  });
}

char *chara_grad_set_none(void **params, int n) {
  return chara::guarded([&] {
    for (int i = 0; i < n; i++) handle(params[i]).mutable_grad().reset();
  });
}
}
