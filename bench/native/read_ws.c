/* Read bandwidth of a working set read again and again, as a decode step reads every weight once a token:
 * WS_MB [THREADS] [SECONDS]. Each thread reads its own contiguous share of the set per pass (AVX-512 loads summed
 * into four accumulators, so that no read is dropped). By default passes are separated by a spin barrier, as one
 * decode step after another; FREE=1 runs the threads without it (each counts its own passes), which is the machine's
 * rate when another process holds a core part of the time (a spin barrier then waits out its scheduler slices).
 * Prints GB/s over SECONDS (default 1) after 3 untimed passes. See README.md. */
#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static char *buf;
static size_t share;
static int nth, free_run;
static double secs;
static atomic_int arrived, gen, stop;
static volatile long sink;

static void barrier(void) {
    if (free_run) {
        return;
    }
    int g = atomic_load(&gen);
    if (atomic_fetch_add(&arrived, 1) == nth - 1) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&gen, 1);
    } else {
        while (atomic_load(&gen) == g) {
            _mm_pause();
        }
    }
}

__attribute__((target("avx512f"))) static long sum_range(const char *p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    for (size_t i = 0; i < n; i += 256) {
        a0 = _mm512_add_epi32(a0, _mm512_load_si512(p + i));
        a1 = _mm512_add_epi32(a1, _mm512_load_si512(p + i + 64));
        a2 = _mm512_add_epi32(a2, _mm512_load_si512(p + i + 128));
        a3 = _mm512_add_epi32(a3, _mm512_load_si512(p + i + 192));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
}

/* thread id: 3 untimed passes, then passes until thread 0 says stop; returns the bytes per second it read */
static double worker(long id) {
    const char *p = buf + id * share;
    long s = 0, n = 0;
    double t0 = 0;
    for (long it = 0;; it++) {
        if (id == 0 && it > 3 && now() - t0 >= secs) {
            atomic_store(&stop, 1);
        }
        barrier();
        if (atomic_load(&stop)) {
            break;
        }
        if (it == 3) {
            t0 = now();
        }
        s += sum_range(p, share);
        if (it >= 3) {
            n++;
        }
        barrier();
    }
    sink = s;
    return (double) share * n / (now() - t0);
}

static double rates[64];

static void *run(void *arg) {
    long id = (long) arg;
    rates[id] = worker(id);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: read_ws WS_MB [THREADS] [SECONDS]\n");
        return 2;
    }
    double mb = atof(argv[1]);
    nth = argc > 2 ? atoi(argv[2]) : 1;
    secs = argc > 3 ? atof(argv[3]) : 1.0;
    free_run = getenv("FREE") != NULL;
    if (nth < 1 || nth > 64 || mb <= 0) {
        fprintf(stderr, "read_ws: WS_MB > 0 and 1..64 threads\n");
        return 2;
    }
    share = (size_t) (mb * 1048576) / nth / 256 * 256;
    buf = aligned_alloc(4096, share * nth);
    memset(buf, 1, share * nth);
    pthread_t th[64];
    for (long i = 1; i < nth; i++) {
        pthread_create(&th[i], 0, run, (void *) i);
    }
    run(0);
    double total = rates[0];
    for (int i = 1; i < nth; i++) {
        pthread_join(th[i], 0);
        total += rates[i];
    }
    printf("working set %6.1f MB, %d thread(s)%s: %7.1f GB/s\n", share * nth / 1048576.0, nth,
           free_run ? ", no barrier" : "", total / 1e9);
    return 0;
}
