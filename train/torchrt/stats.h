#ifndef CHARA_TORCHRT_STATS_H
#define CHARA_TORCHRT_STATS_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// A new accumulator of training-step statistics on device (-1: CPU): two
// doubles, the sum of loss * batch size and the number of correct argmax
// predictions. *out receives a gotch tensor handle.
char *chara_stats_new(int device, void **out);
// Adds one step (mean loss, logits [n, classes], labels [n]) without
// reading anything back to the host.
char *chara_stats_add(void *acc, void *loss, void *logits, void *labels, int64_t n);
// Reads the sums back to the host (one wait for the device) and zeroes them.
char *chara_stats_take(void *acc, double *loss_sum, double *correct);
#ifdef __cplusplus
}
#endif
#endif
