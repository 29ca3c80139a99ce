/* alloc.c -- see alloc.h. */
#include "alloc.h"
#include "util.h"

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* Exported by the sanitizer runtimes (gcc ships no header for them). */
size_t __sanitizer_get_current_allocated_bytes(void);
size_t __sanitizer_get_heap_size(void);
#endif

typedef int (*mi_version_fn)(void);
/* mimalloc's heap walk (mimalloc.h), through dlsym like the rest: only the
 * leading fields of its area record are read. */
typedef struct {
    void *blocks;
    size_t reserved, committed, used, block_size;
} mi_area_head;
typedef int (*mi_visit_fn)(const void *heap, const mi_area_head *area, void *block, size_t size,
                           void *arg);
typedef int (*mi_heap_visit_fn)(const void *heap, _Bool all, mi_visit_fn fn, void *arg);
typedef void *(*mi_heap_default_fn)(void);
typedef void (*mi_process_info_fn)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *,
                                   size_t *, size_t *);
typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef void (*alloc_out_fn)(const char *msg, void *arg);
typedef void (*mi_stats_print_fn)(alloc_out_fn out, void *arg);
typedef void (*mi_collect_fn)(_Bool force);
/* jemalloc's write callback takes its argument first. */
typedef void (*je_write_fn)(void *arg, const char *msg);
typedef void (*je_stats_print_fn)(je_write_fn out, void *arg, const char *opts);

/* The allocator's entry points, looked up once. */
static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
static struct {
    mi_version_fn mi_version;
    mi_process_info_fn mi_process_info;
    mallctl_fn mallctl;
    mi_heap_visit_fn mi_heap_visit_blocks;
    mi_heap_default_fn mi_heap_get_default;
    mi_stats_print_fn mi_stats_print_out;
    mi_collect_fn mi_collect;
    je_stats_print_fn malloc_stats_print;
    char name[64];
} al;

/* Whether the library that provides malloc is the one named. */
static int malloc_from(const char *lib) {
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    return m && dladdr(m, &info) && info.dli_fname && strstr(info.dli_fname, lib);
}

/* dlsym into a function pointer (through a data pointer, as dlsym returns
 * one); NULL when absent. */
#define LOOKUP(field, sym)                                                                         \
    do {                                                                                           \
        void *p_ = dlsym(RTLD_DEFAULT, sym);                                                       \
        memcpy(&al.field, &p_, sizeof(p_));                                                        \
    } while (0)

static void alloc_probe_once(void) {
    /* Only the allocator that serves malloc counts: a library linked but
     * overridden by a preload is not asked. */
    if (malloc_from("mimalloc")) {
        LOOKUP(mi_version, "mi_version");
        LOOKUP(mi_process_info, "mi_process_info");
        LOOKUP(mi_heap_visit_blocks, "mi_heap_visit_blocks");
        LOOKUP(mi_heap_get_default, "mi_heap_get_default");
        LOOKUP(mi_stats_print_out, "mi_stats_print_out");
        LOOKUP(mi_collect, "mi_collect");
    } else if (malloc_from("jemalloc")) {
        LOOKUP(mallctl, "mallctl");
        LOOKUP(malloc_stats_print, "malloc_stats_print");
    }
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

static int add_area(const void *heap, const mi_area_head *area, void *block, size_t size,
                    void *arg) {
    (void)heap, (void)block, (void)size;
    *(unsigned long long *)arg += (unsigned long long)area->used * area->block_size;
    return 1;
}

unsigned long long alloc_thread_used(void) {
    alloc_probe();
    unsigned long long n = 0;
    if (al.mi_heap_visit_blocks && al.mi_heap_get_default)
        al.mi_heap_visit_blocks(al.mi_heap_get_default(), 0, add_area, &n);
    return n;
}

/* Whether bytes in use are counted per thread (alloc_usage's thread_used). */
static int alloc_per_thread(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#endif
    alloc_probe();
    return al.mi_version && al.mi_process_info;
}

void alloc_usage(unsigned long long thread_used, unsigned long long *used,
                 unsigned long long *active) {
    (void)thread_used;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* The sanitizer's allocator serves every malloc; it keeps the counts. */
    *used = __sanitizer_get_current_allocated_bytes();
    *active = __sanitizer_get_heap_size();
    return;
#endif
    if (alloc_per_thread()) {
        size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
        al.mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
        *used = thread_used;
        *active = commit;
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

/* Relaxed: a statistic, changed only when a big table comes or goes. */
static unsigned long long alloc_mapped_bytes;

void *alloc_big_zeroed(size_t bytes) {
    if (bytes < ALLOC_MAP_MIN) {
        void *p = calloc(1, bytes);
        if (p == NULL) abort();
        return p;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) abort();
    __atomic_add_fetch(&alloc_mapped_bytes, bytes, __ATOMIC_RELAXED);
    return p;
}

void alloc_big_free(void *p, size_t bytes) {
    if (p == NULL) return;
    if (bytes < ALLOC_MAP_MIN) {
        free(p);
        return;
    }
    munmap(p, bytes);
    __atomic_sub_fetch(&alloc_mapped_bytes, bytes, __ATOMIC_RELAXED);
}

size_t alloc_big_size(void *p, size_t bytes) {
    return bytes < ALLOC_MAP_MIN ? malloc_usable_size(p) : bytes;
}

unsigned long long alloc_mapped(void) {
    return __atomic_load_n(&alloc_mapped_bytes, __ATOMIC_RELAXED);
}

/* What the shards held when they had started (alloc_note_startup): their
 * heaps summed, the largest process-wide count and mapped bytes seen. */
static unsigned long long startup_threads, startup_process, startup_mapped;

void alloc_note_startup(void) {
    unsigned long long t = alloc_thread_used(), used, active, mapped = alloc_mapped();
    __atomic_add_fetch(&startup_threads, t, __ATOMIC_RELAXED);
    alloc_usage(t, &used, &active);
    util_atomic_max(&startup_process, used + mapped);
    util_atomic_max(&startup_mapped, mapped);
}

unsigned long long alloc_startup_used(void) {
    if (alloc_per_thread())
        return __atomic_load_n(&startup_threads, __ATOMIC_RELAXED) +
               __atomic_load_n(&startup_mapped, __ATOMIC_RELAXED);
    return __atomic_load_n(&startup_process, __ATOMIC_RELAXED);
}

static void stats_append(const char *msg, void *arg) {
    alloc_text *t = arg;
    size_t n = strlen(msg);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->buf, cap);
        if (p == NULL) abort();
        t->buf = p;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, msg, n + 1);
    t->len += n;
}

static void je_append(void *arg, const char *msg) {
    stats_append(msg, arg);
}

int alloc_stats(alloc_text *t) {
    t->buf = NULL;
    t->len = t->cap = 0;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#endif
    alloc_probe();
    if (al.malloc_stats_print)
        al.malloc_stats_print(je_append, t, NULL);
    else if (al.mi_stats_print_out)
        al.mi_stats_print_out(stats_append, t);
    else
        return 0;
    return t->buf != NULL;
}

void alloc_purge(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return;
#endif
    alloc_probe();
    if (al.mi_collect) {
        al.mi_collect(1);
    } else if (al.mallctl) {
        /* arena.<MALLCTL_ARENAS_ALL>.purge: every arena's dirty pages. */
        al.mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
    } else {
        malloc_trim(0);
    }
}
