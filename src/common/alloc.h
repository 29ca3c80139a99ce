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

#endif
