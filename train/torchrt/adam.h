#ifndef CHARA_TORCHRT_ADAM_H
#define CHARA_TORCHRT_ADAM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// One Adam step over n parameters, in place. params, exp_avgs and
// exp_avg_sqs are gotch tensor handles (torch::Tensor*). Parameters without
// a gradient are skipped. step is the step number after this update (1 for
// the first). Returns NULL, or a malloc'd error message.
char *chara_adam_step(void **params, void **exp_avgs, void **exp_avg_sqs, int n,
                      double lr, double beta1, double beta2, double eps,
                      double weight_decay, int64_t step);
// Drops the gradients of n parameters (PyTorch's zero_grad(set_to_none=True)).
char *chara_grad_set_none(void **params, int n);
#ifdef __cplusplus
}
#endif
#endif
