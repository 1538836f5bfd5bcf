#ifndef CSSBLAS_H
#define CSSBLAS_H
// Minimal CBLAS prototypes for OpenBLAS; declared here so the build does not depend on
// where a distribution puts cblas.h. Enum values follow the CBLAS standard.
#define CSS_ROW_MAJOR 101
#define CSS_NO_TRANS 111
#define CSS_TRANS 112
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
// glibc only: serve large blocks from the heap instead of fresh mmap pages (see shim.c).
void css_keep_large_blocks_in_heap(void);
/// Returns free heap memory to the kernel (malloc_trim); a no-op outside glibc.
void css_release_free_memory(void);
/// Bytes allocated with malloc and not yet freed, all arenas and mapped blocks (glibc ≥ 2.33), else -1.
long long css_heap_bytes_in_use(void);
/// Free bytes at the top of the heap that malloc_trim could give back (glibc ≥ 2.33), else -1.
long long css_heap_free_top_bytes(void);
/// Names the calling thread (for gdb, top and /proc); Linux keeps the first 15 bytes.
void css_name_this_thread(const char *name);
#endif
