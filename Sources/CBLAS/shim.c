#define _GNU_SOURCE  // pthread_setname_np
#include "cssblas.h"

#include <pthread.h>
#include <string.h>
#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Above 128 KiB glibc maps every block afresh and unmaps it on free, so per-layer activations
// of megabytes come back as zero pages that fault in on first touch. Raising the mmap threshold
// keeps freed blocks in the heap for the next layer or batch. The heap's free top is still given
// back beyond 256 MiB, and css_release_free_memory returns the rest when a job ends, so one
// transient peak (a data-set batch, a trace) does not stay resident for the whole session. Two
// arenas: each arena keeps its own free blocks, and one per thread would multiply that.
void css_keep_large_blocks_in_heap(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_ARENA_MAX, 2);
#endif
}

void css_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

long long css_heap_bytes_in_use(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return (long long)(m.uordblks + m.hblkhd);
#else
    return -1;
#endif
}

void css_name_this_thread(const char *name) {
#if defined(__GLIBC__)
    char shortened[16];  // Linux keeps 15 bytes and a NUL
    strncpy(shortened, name, sizeof shortened - 1);
    shortened[sizeof shortened - 1] = 0;
    pthread_setname_np(pthread_self(), shortened);
#elif defined(__APPLE__)
    pthread_setname_np(name);
#endif
}
