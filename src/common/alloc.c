/* alloc.c -- see alloc.h. */
#include "alloc.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Exported by the sanitizer runtimes (gcc ships no header for them). */
size_t __sanitizer_get_current_allocated_bytes(void);
size_t __sanitizer_get_heap_size(void);
#endif

typedef int (*mi_version_fn)(void);
typedef void (*mi_process_info_fn)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                                   size_t *, size_t *);
typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

/* The allocator's entry points, looked up once. */
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
static struct {
    mi_version_fn mi_version;
    mi_process_info_fn mi_process_info;
    mallctl_fn mallctl;
    char name[64];
} al;

static void alloc_probe_once(void) {
    /* The function-pointer casts go through a data pointer, as dlsym
     * returns one. */
    void *p = dlsym(RTLD_DEFAULT, "mi_version");
    memcpy(&al.mi_version, &p, sizeof(p));
    p = dlsym(RTLD_DEFAULT, "mi_process_info");
    memcpy(&al.mi_process_info, &p, sizeof(p));
    p = dlsym(RTLD_DEFAULT, "mallctl");
    memcpy(&al.mallctl, &p, sizeof(p));
    if (al.mi_version && al.mi_process_info) {
        int v = al.mi_version();
        snprintf(al.name, sizeof(al.name), "mimalloc-%d.%d.%d", v / 100, v / 10 % 10, v % 10);
    } else if (al.mallctl) {
        const char *ver = NULL;
        size_t sz = sizeof(ver);
        if (al.mallctl("version", &ver, &sz, NULL, 0) == 0 && ver)
            snprintf(al.name, sizeof(al.name), "jemalloc-%s", ver);
        else
            snprintf(al.name, sizeof(al.name), "jemalloc");
    } else {
        snprintf(al.name, sizeof(al.name), "libc");
    }
}

static void alloc_probe(void) {
    pthread_once(&alloc_once, alloc_probe_once);
}

const char *alloc_name(void) {
#if defined(__SANITIZE_ADDRESS__)
    return "asan";
#elif defined(__SANITIZE_THREAD__)
    return "tsan";
#endif
    alloc_probe();
    return al.name;
}

void alloc_usage(unsigned long long *used, unsigned long long *active) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* The sanitizer's allocator serves every malloc; it keeps the counts. */
    *used = __sanitizer_get_current_allocated_bytes();
    *active = __sanitizer_get_heap_size();
    return;
#endif
    alloc_probe();
    if (al.mi_version && al.mi_process_info) {
        size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
        al.mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
        *used = *active = commit;
        return;
    }
    if (al.mallctl) {
        uint64_t epoch = 1;
        size_t esz = sizeof(epoch), a = 0, b = 0, sz = sizeof(size_t);
        al.mallctl("epoch", &epoch, &esz, &epoch, esz);
        al.mallctl("stats.allocated", &a, &sz, NULL, 0);
        sz = sizeof(size_t);
        al.mallctl("stats.active", &b, &sz, NULL, 0);
        *used = a;
        *active = b;
        return;
    }
    struct mallinfo2 mi = mallinfo2();
    *used = (unsigned long long)(mi.uordblks + mi.hblkhd);
    *active = (unsigned long long)(mi.arena + mi.hblkhd);
}
