// Single-threaded SGEMM rate of whichever CBLAS this is linked against, at the shapes of
// cssdbg's hot products (Winograd U·V per ξ, the stem's im2col, a stride-2 3×3 im2col):
// best of 7 runs of about 2 GFLOP each; `--shapes` prints only the shapes. Built and run by
// bench/gemm_rates.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int shapesOnly = argc > 1 && strcmp(argv[1], "--shapes") == 0;
    static const int shapes[][3] = {  // M, N, K
        {64, 1024, 64}, {128, 512, 128}, {256, 784, 256}, {512, 256, 512}, {64, 4096, 147}, {128, 4096, 576},
    };
    for (int s = 0; s < 6; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        if (shapesOnly) { printf("%dx%dx%d\n", M, N, K); continue; }
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N), *C = malloc(sizeof(float) * M * N);
        srand(1);
        for (int i = 0; i < M * K; i++) A[i] = rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < K * N; i++) B[i] = rand() / (float)RAND_MAX - 0.5f;
        double flops = 2.0 * M * N * K, best = 1e30;
        int reps = (int)(2e9 / flops) + 1;
        for (int r = 0; r < 7; r++) {
            double t0 = now();
            for (int q = 0; q < reps; q++) cblas_sgemm(101, 111, 111, M, N, K, 1, A, K, B, N, 0, C, N);
            double t = (now() - t0) / reps;
            if (t < best) best = t;
        }
        printf("%dx%dx%d %.1f\n", M, N, K, flops / best / 1e9);
        free(A); free(B); free(C);
    }
    return 0;
}
