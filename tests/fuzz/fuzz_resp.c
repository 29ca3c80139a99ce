/* fuzz_resp.c -- fuzzer for the RESP request parser.
 *
 * Single-threaded. Each input is parsed twice: in one read, and split into
 * reads at points derived from the input's first byte. Both runs must give
 * the same requests and the same final outcome, every span must lie inside
 * its buffer, and every result must be RESP_OK, RESP_INCOMPLETE or RESP_ERR.
 * Any violation aborts. Each read is an exact-size heap copy, so ASan flags
 * over-reads.
 *
 * libFuzzer:   clang -fsanitize=fuzzer,address,undefined -DRESP_FUZZ_LIBFUZZER -Isrc \
 *                  tests/fuzz/fuzz_resp.c src/resp/resp_parse.c src/resp/resp_write.c
 * standalone:  gcc -fsanitize=address,undefined -Isrc tests/fuzz/fuzz_resp.c \
 *                  src/resp/resp_parse.c src/resp/resp_write.c -o fuzz_resp
 *              ./fuzz_resp [iterations] [seed]   (random inputs), or
 *              ./fuzz_resp FILE...                (replay inputs)
 */
#include "resp/resp.h"
#include "resp/resp_inline.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FAIL(msg)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "fuzz_resp: %s (line %d)\n", msg, __LINE__);                               \
        abort();                                                                                   \
    } while (0)

/* Parse data[0..n) delivering it in reads of `step` bytes (0: one read) and
 * append a record of each request and the outcome to out. */
static void fuzz_run(const uint8_t *data, size_t n, size_t step, int unauth, rbuf *out) {
    resp_parser p;
    resp_parser_init(&p);
    p.unauthenticated = unauth;
    size_t start = 0, have = 0;

    for (;;) {
        have = step == 0 || n - have <= step ? n : have + step;
        for (;;) {
            size_t len = have - start;
            char *copy = malloc(len ? len : 1);
            if (len) memcpy(copy, data + start, len);
            int rc = resp_parse(&p, copy, len);
            if (rc == RESP_ERR) {
                if (!p.err) FUZZ_FAIL("RESP_ERR without err");
                rb_append(out, "E", 1);
                rb_append(out, p.err, strlen(p.err));
                free(copy);
                resp_parser_free(&p);
                return;
            }
            if (rc == RESP_INCOMPLETE) {
                free(copy);
                break;
            }
            if (rc != RESP_OK) FUZZ_FAIL("unknown result");
            if (p.consumed == 0 || p.consumed > len) FUZZ_FAIL("bad consumed");
            const char *base = resp_args_base(&p, copy);
            rw_array(out, p.argc);
            for (int i = 0; i < p.argc; i++) {
                if (!p.inline_req && p.argv[i].off + p.argv[i].len > len)
                    FUZZ_FAIL("span outside the buffer");
                rw_bulk(out, base + p.argv[i].off, p.argv[i].len);
            }
            rw_int(out, (long long)p.consumed);
            start += p.consumed;
            free(copy);
        }
        if (have == n) break;
    }
    rw_int(out, (long long)(n - start));
    resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    /* The first byte picks the options; the rest is the stream. */
    int unauth = data[0] & 1;
    size_t step = 1 + (data[0] >> 1) % 16;
    rbuf a, b;
    rb_init(&a, 2);
    rb_init(&b, 2);
    fuzz_run(data + 1, size - 1, 0, unauth, &a);
    fuzz_run(data + 1, size - 1, step, unauth, &b);
    /* Inputs past RESP_INLINE_MAX may legitimately differ by read size. */
    if (size - 1 <= RESP_INLINE_MAX && (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0))
        FUZZ_FAIL("split reads changed the result");
    rb_free(&a);
    rb_free(&b);
    return 0;
}

#ifndef RESP_FUZZ_LIBFUZZER
static uint64_t fuzz_rng = 88172645463325252ULL;

static uint64_t fuzz_rnd(void) {
    fuzz_rng ^= fuzz_rng << 13;
    fuzz_rng ^= fuzz_rng >> 7;
    fuzz_rng ^= fuzz_rng << 17;
    return fuzz_rng;
}

/* A random input mixing valid frames, protocol characters and raw bytes. */
static size_t fuzz_gen(uint8_t *buf, size_t cap) {
    static const char alpha[] = "*$\r\n0123456789-\"'\\x :ab\t";
    static const char *frames[] = {"*1\r\n$4\r\nPING\r\n",
                                   "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
                                   "PING\r\n",
                                   "set \"a\\x41\" 'b\\'c'\n",
                                   "*0\r\n",
                                   "*-1\r\n",
                                   "\r\n",
                                   "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"};
    size_t n = 0, want = (size_t)(fuzz_rnd() % cap);
    buf[n++] = (uint8_t)fuzz_rnd();
    while (n < want) {
        unsigned r = (unsigned)(fuzz_rnd() % 100);
        if (r < 10) {
            const char *f = frames[fuzz_rnd() % (sizeof(frames) / sizeof(frames[0]))];
            size_t fl = strlen(f);
            if (n + fl > cap) break;
            memcpy(buf + n, f, fl);
            n += fl;
        } else if (r < 90) {
            buf[n++] = (uint8_t)alpha[fuzz_rnd() % (sizeof(alpha) - 1)];
        } else if (r < 95) {
            buf[n++] = 0;
        } else {
            buf[n++] = (uint8_t)fuzz_rnd();
        }
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc > 1 && (argv[1][0] < '0' || argv[1][0] > '9')) {
        for (int i = 1; i < argc; i++) {
            FILE *f = fopen(argv[i], "rb");
            if (!f) {
                perror(argv[i]);
                return 1;
            }
            static uint8_t in[1 << 20];
            size_t n = fread(in, 1, sizeof(in), f);
            fclose(f);
            LLVMFuzzerTestOneInput(in, n);
        }
        return 0;
    }
    long iters = argc > 1 ? atol(argv[1]) : 100000;
    if (argc > 2) fuzz_rng = strtoull(argv[2], NULL, 10) | 1;
    static uint8_t buf[512];
    for (long i = 0; i < iters; i++) {
        size_t n = fuzz_gen(buf, sizeof(buf));
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_resp: %ld inputs ok\n", iters);
    return 0;
}
#endif
