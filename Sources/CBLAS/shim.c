#include "cssblas.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// Above 128 KiB glibc maps every block afresh and unmaps it on free, so per-layer activations
// of megabytes come back as zero pages that fault in on first touch. Raising the thresholds
// keeps freed blocks in the heap for the next layer or batch.
void css_keep_large_blocks_in_heap(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
    mallopt(M_TOP_PAD, 256 << 20);
#endif
}
