/* test_monitor.c -- unit tests of monitor_format (c_server.c): the MONITOR
 * line layout and Redis's argument quoting, checked against expected bytes
 * and against a simple reference quoter on random arguments. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/monitor.h"
#include "unit.h"

/* Reference quoting: the rules written out the slow way. */
static size_t ref_quote(char *out, const unsigned char *p, size_t n) {
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        const char *esc = NULL;
        if (ch == '\\')
            esc = "\\\\";
        else if (ch == '"')
            esc = "\\\"";
        else if (ch == '\n')
            esc = "\\n";
        else if (ch == '\r')
            esc = "\\r";
        else if (ch == '\t')
            esc = "\\t";
        else if (ch == 7)
            esc = "\\a";
        else if (ch == 8)
            esc = "\\b";
        if (esc) {
            memcpy(out + o, esc, 2);
            o += 2;
        } else if (ch >= 32 && ch < 127) {
            out[o++] = (char)ch;
        } else {
            o += (size_t)sprintf(out + o, "\\x%02x", ch);
        }
    }
    out[o++] = '"';
    return o;
}

int main(void) {
    rbuf b;
    rb_init(&b, 2);
    rt_arg argv[3] = {{"SET", 3}, {"k", 1}, {"v", 1}};
    monitor_format(&b, 1700000000123456LL, 0, "127.0.0.1:50000", 3, argv);
    const char *want = "+1700000000.123456 [0 127.0.0.1:50000] \"SET\" \"k\" \"v\"\r\n";
    CHECK(b.len == strlen(want) && memcmp(b.buf, want, b.len) == 0);

    rb_clear(&b);
    rt_arg odd[2] = {{"ECHO", 4}, {"a b\"\\\x01\xc3\xa9\r\n\t\a\b", 14}};
    odd[1].len = 13;
    monitor_format(&b, 5000001LL, 12, "1.2.3.4:5", 2, odd);
    want = "+5.000001 [12 1.2.3.4:5] \"ECHO\" \"a b\\\"\\\\\\x01\\xc3\\xa9\\r\\n\\t\\a\\b\"\r\n";
    CHECK(b.len == strlen(want) && memcmp(b.buf, want, b.len) == 0);

    rb_clear(&b);
    monitor_format(&b, 0, 0, "x:1", 0, NULL);
    CHECK(b.len == strlen("+0.000000 [0 x:1]\r\n"));

    srand(7);
    for (int iter = 0; iter < 2000; iter++) {
        unsigned char arg[64];
        size_t n = (size_t)(rand() % 64);
        for (size_t i = 0; i < n; i++)
            arg[i] = (unsigned char)(rand() % 256);
        rt_arg a = {(const char *)arg, n};
        rb_clear(&b);
        monitor_format(&b, 1, 0, "p", 1, &a);
        char ref[64 * 4 + 64];
        size_t hl = strlen("+0.000001 [0 p] ");
        size_t rl = ref_quote(ref, arg, n);
        CHECK(b.len == hl + rl + 2);
        CHECK(b.len >= hl + rl && memcmp(b.buf + hl, ref, rl) == 0);
    }
    rb_free(&b);
    UNIT_DONE();
}
