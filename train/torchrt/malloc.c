// glibc malloc settings for libtorch's large, short-lived tensors.
//
// A Go program runs libtorch on a goroutine locked to an OS thread that is
// not the process's main thread, so glibc serves its allocations from a
// secondary arena: 64 MB heaps that it shrinks (madvise) as soon as their
// top is free. Every training step then page-faults its activations in
// again (measured here: twice PyTorch's page faults and system time for
// the same EfficientNet-B0 step; Python runs libtorch on the main thread,
// whose arena grows with brk). One arena puts every thread on the main
// arena. Serving large blocks from that heap instead of fresh mmaps (no
// mmap, no trimming) also keeps the step's pages mapped from one step to
// the next, as a caching allocator would: chara_malloc_release gives the
// free memory back when a run ends.
//
// A user's own MALLOC_* or GLIBC_TUNABLES malloc settings win: nothing is
// changed then.
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charamalloc.h"

static int chara_malloc_tuned;

__attribute__((constructor)) static void chara_malloc_setup(void) {
  const char *t = getenv("GLIBC_TUNABLES");
  if ((t && strstr(t, "glibc.malloc.")) || getenv("MALLOC_ARENA_MAX") || getenv("MALLOC_MMAP_MAX_") ||
      getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_"))
    return;
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);  // never trim on free (a size_t max)
  chara_malloc_tuned = 1;
}

int chara_malloc_is_tuned(void) { return chara_malloc_tuned; }

void chara_malloc_release(void) { malloc_trim(0); }

char *chara_malloc_info(void) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  malloc_info(0, f);
  fclose(f);
  return buf;
}
