#ifndef CHARA_TORCHRT_H
#define CHARA_TORCHRT_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
void chara_manual_seed(int64_t seed);
void chara_set_num_threads(int n);
int chara_get_num_threads(void);
// torch.backends.cudnn.benchmark (process-wide); returns the previous value.
int chara_set_cudnn_benchmark(int on);
// Sets grad mode on this OS thread; returns the previous mode (0 or 1).
int chara_grad_set_enabled(int enabled);
// CUDA autocast in bf16 on this OS thread: enter returns the previous
// state, exit restores it.
int chara_autocast_bf16_enter(void);
void chara_autocast_exit(int prev);
int chara_autocast_is_enabled(void);
// Returned strings are malloc'd; the caller frees them.
char *chara_torch_config(void);
char *chara_torch_compiled_version(void);
int chara_cuda_available(void);
int chara_cuda_device_count(void);
long chara_cudnn_version(void);
// Writes the device's name into buf (NUL-terminated); returns 0 on success.
int chara_cuda_device_name(int device, char *buf, int len);
#ifdef __cplusplus
}
#endif
#endif
