/* alloc.h -- which malloc serves the process, and how much it holds.
 *
 * The build links mimalloc by default (ALLOC= in the Makefile); a sanitizer
 * build or ALLOC=libc keeps glibc's, ALLOC=jemalloc links jemalloc. The
 * allocator is recognised at run time by the library that provides
 * malloc, so the answer is right however the binary was linked or
 * preloaded (a jemalloc preloaded over the mimalloc build is jemalloc).
 */
#ifndef PERCORE_ALLOC_H
#define PERCORE_ALLOC_H

#include <stddef.h>

/* "libc", "mimalloc-2.0.9", "jemalloc-5.3.0-...", or "asan"/"tsan" in a
 * sanitizer build, whose allocator replaces malloc (INFO mem_allocator). */
const char *alloc_name(void);

/* *used: bytes the allocator has handed out and not got back; *active: bytes
 * it holds in pages it uses. glibc and jemalloc count both for the whole
 * process. mimalloc keeps no process-wide count of bytes handed out in its
 * release builds: under it *used is thread_used (the sum of
 * alloc_thread_used over the threads that allocate, the shards) and
 * *active its committed memory. */
void alloc_usage(unsigned long long thread_used, unsigned long long *used,
                 unsigned long long *active);

/* Under mimalloc, the bytes in blocks of the calling thread's heap now in
 * use (a walk over its pages, not its blocks); 0 under any other
 * allocator. */
unsigned long long alloc_thread_used(void);

/* Called once by each shard on its own thread when it has started: the
 * memory then in use is INFO's used_memory_startup (alloc_startup_used),
 * counted as used_memory is. */
void alloc_note_startup(void);
unsigned long long alloc_startup_used(void);

/* The allocator's own statistics report (MEMORY MALLOC-STATS), into t
 * (t->buf is malloc'd, NUL-terminated; free it). Returns 0, with nothing
 * allocated, when the allocator gives none. */
typedef struct alloc_text {
    char *buf;
    size_t len, cap;
} alloc_text;
int alloc_stats(alloc_text *t);

/* Hand free pages of the calling thread's heap (mimalloc), of every arena
 * (jemalloc) or of the heap (glibc) back to the system (MEMORY PURGE). */
void alloc_purge(void);

/* Zeroed memory for a big table (a key table's buckets, an expires table, a
 * big hash's buckets). From ALLOC_MAP_MIN bytes up it is mapped from the
 * kernel: its pages are zero-filled as they are first touched, so a new
 * table costs no up-front clearing (which held a command for tens of ms at
 * a few million keys), and it goes back to the kernel when freed. Smaller
 * ones come from calloc. alloc_big_free and alloc_big_size take the size
 * it was asked for. Aborts when out of memory. */
#define ALLOC_MAP_MIN (256 * 1024)
void *alloc_big_zeroed(size_t bytes);
void alloc_big_free(void *p, size_t bytes);
/* The bytes p occupies (as malloc_usable_size for a calloc'd one). */
size_t alloc_big_size(void *p, size_t bytes);
/* Bytes mapped by alloc_big_zeroed and not yet freed, process-wide (part of
 * INFO used_memory: no allocator counts them). */
unsigned long long alloc_mapped(void);

#endif
