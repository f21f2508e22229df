#ifndef CHARA_TORCHRT_BATCH_H
#define CHARA_TORCHRT_BATCH_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// Turns n uint8 images (NCHW, in memory the caller keeps for the call) into
// a float tensor on device (-1: CPU, else CUDA index), x * scale + shift,
// channels-last if asked. *out receives a new gotch tensor handle. Returns
// NULL, or a malloc'd error message.
char *chara_image_batch(const uint8_t *pix, int64_t n, int64_t c, int64_t h, int64_t w, int device,
                        void *scale, void *shift, int channels_last, void **out);
// Copies n int64 labels (memory the caller keeps for the call) to a new
// tensor on device (-1: CPU, else CUDA index, without waiting for the GPU).
char *chara_labels(const int64_t *y, int64_t n, int device, void **out);
// Stores every 4-D tensor of the n handles in channels-last memory format
// (as Module.to(memory_format=torch.channels_last) does).
char *chara_channels_last(void **tensors, int n);
#ifdef __cplusplus
}
#endif
#endif
