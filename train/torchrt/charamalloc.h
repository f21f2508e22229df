#ifndef CHARA_TORCHRT_MALLOC_H
#define CHARA_TORCHRT_MALLOC_H
#ifdef __cplusplus
extern "C" {
#endif
// 1 when chara set glibc malloc's options at start-up (malloc.c), 0 when
// the environment's settings were kept.
int chara_malloc_is_tuned(void);
// Returns free heap memory to the system (malloc_trim).
void chara_malloc_release(void);
// glibc's malloc_info XML, malloc'd (the caller frees it); NULL on failure.
char *chara_malloc_info(void);
#ifdef __cplusplus
}
#endif
#endif
