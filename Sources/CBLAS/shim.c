#define _GNU_SOURCE  // pthread_setname_np
#include "cssblas.h"

#include <pthread.h>
#include <string.h>
#include <limits.h>
#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Above 128 KiB glibc maps every block afresh and unmaps it on free, so per-layer activations
// of megabytes come back as zero pages that fault in on first touch. Raising the mmap threshold
// keeps freed blocks in the heap for the next layer or batch. One arena: a thread's own arena
// grows in heaps of at most 64 MiB, so a larger block (a 224×224 layer's window is 514 MB)
// allocated off the main thread was mapped and unmapped each time whatever the threshold (three
// times the page faults on ResNet-18 at 224×224; the allocations are few and large, so sharing
// one arena's lock costs nothing measurable). The heap's free top is never trimmed on free: with
// a 1 GiB threshold a 224×224 batch (peak about 1.4 GiB) freed more than that at its end, glibc
// gave all of it back, and the next batch faulted ~1 GB in again (240 000 page faults a batch,
// half of the run's system time). css_release_free_memory returns free memory explicitly when a
// trace or job ends, so one transient peak does not stay resident for the whole session.
void css_keep_large_blocks_in_heap(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_ARENA_MAX, 1);
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

long long css_heap_free_top_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return (long long)mallinfo2().keepcost;
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
