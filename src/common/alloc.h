/* alloc.h -- which malloc serves the process, and how much it holds.
 *
 * The build links mimalloc by default (ALLOC= in the Makefile); a sanitizer
 * build or ALLOC=libc keeps glibc's, ALLOC=jemalloc links jemalloc. The
 * allocator is recognised at run time by the symbols it exports, so the
 * answer is right however the binary was linked or preloaded.
 */
#ifndef PERCORE_ALLOC_H
#define PERCORE_ALLOC_H

/* "libc", "mimalloc-2.0.9", "jemalloc-5.3.0-...", or "asan"/"tsan" in a
 * sanitizer build, whose allocator replaces malloc (INFO mem_allocator). */
const char *alloc_name(void);

/* *used: bytes the allocator has handed out and not got back; *active: bytes
 * it holds in pages it uses. glibc and jemalloc report both. mimalloc keeps
 * no count of bytes handed out in its release builds, so under it both are
 * its committed memory (what it has mapped and may touch), an upper bound. */
void alloc_usage(unsigned long long *used, unsigned long long *active);

#endif
