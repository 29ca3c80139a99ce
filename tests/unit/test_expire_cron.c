/* test_expire_cron.c -- the active expiry cycle against a real store: keys
 * whose TTL passed disappear without being looked up, keys without a TTL or
 * with a future one stay, and the cycle does nothing while disabled. */
#include <stdio.h>
#include <string.h>

#include "../../src/cmd/expire_cron.h"
#include "unit.h"

/* Fill db `dbi` with n keys "<tag><i>": every third has no TTL, every third
 * a future deadline, the rest a past one. Returns how many should survive. */
static size_t fill(store *st, int dbi, const char *tag, int n) {
    db *d = store_db(st, dbi);
    size_t live = 0;
    for (int i = 0; i < n; i++) {
        char k[32];
        int kl = snprintf(k, sizeof k, "%s%d", tag, i);
        db_set(d, k, (size_t)kl, obj_new_string("v", 1), 0);
        if (i % 3 == 0) {
            live++;
        } else if (i % 3 == 1) {
            db_set_expire(d, k, (size_t)kl, st->now_ms + 3600 * 1000);
            live++;
        } else {
            db_set_expire(d, k, (size_t)kl, st->now_ms + 1);
        }
    }
    return live;
}

int main(void) {
    shard_state ss;
    memset(&ss, 0, sizeof ss);
    ss.st = store_new(16, 7);
    ss.cfg.hz = 10;
    store *st = ss.st;

    size_t live0 = fill(st, 0, "a", 3000);
    size_t live5 = fill(st, 5, "b", 300);
    st->now_ms += 10;

    /* Disabled: nothing is reaped. */
    st->active_expire = 0;
    expire_cron(&ss);
    CHECK(db_size(store_db(st, 0)) == 3000);
    CHECK(db_size(store_db(st, 5)) == 300);

    /* Enabled: a few cycles reap (nearly) every expired key. The cron reads
     * the wall clock, which is behind our advanced now_ms by 10 ms at most:
     * wait for it so the deadlines really are in the past. */
    st->active_expire = 1;
    int64_t until = util_mstime() + 20;
    while (util_mstime() < until)
        ;
    for (int i = 0; i < 50; i++)
        expire_cron(&ss);
    /* The cycle stops once a sample is mostly live, so a few stale keys may
     * remain, as in Redis; at most a quarter of the TTL keys. */
    CHECK(db_size(store_db(st, 0)) >= live0);
    CHECK(db_size(store_db(st, 0)) < live0 + 250);
    CHECK(db_size(store_db(st, 5)) >= live5);
    CHECK(db_size(store_db(st, 5)) < live5 + 30);
    CHECK(st->stats.expired_keys > 800);

    /* Every survivor is live: no key with a future TTL or none was taken. */
    for (int i = 0; i < 3000; i += 3) {
        char k[32];
        int kl = snprintf(k, sizeof k, "a%d", i);
        CHECK(db_find(store_db(st, 0), k, (size_t)kl) != NULL);
        kl = snprintf(k, sizeof k, "a%d", i + 1);
        CHECK(db_find(store_db(st, 0), k, (size_t)kl) != NULL);
    }

    /* An empty store is fine. */
    db_flush(store_db(st, 0));
    db_flush(store_db(st, 5));
    expire_cron(&ss);
    CHECK(db_size(store_db(st, 0)) == 0);

    store_free(st);
    UNIT_DONE();
}
