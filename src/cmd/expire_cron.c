/* expire_cron.c -- active expiry: the periodic cycle that reaps keys whose
 * TTL has passed but that nobody has touched since.
 *
 * Runs on each shard's own thread, `hz` times a second, from the command
 * set's shard_cron hook; it only touches that shard's store. The cycle is
 * Redis's adaptive one: per database, sample up to 20 keys that have a TTL
 * and delete the expired ones; sample again while more than a quarter of a
 * sample had expired; stop when a time budget of 25% of the cron period is
 * spent. Databases are visited round robin, resuming where the last call
 * ran out of time.
 */
#include "cmd.h"
#include "expire_cron.h"

#define EXPIRE_CRON_SAMPLES 20    /* keys sampled per step */
#define EXPIRE_CRON_STALE_PERC 25 /* repeat while more than this % expired */
#define EXPIRE_CRON_TIME_PERC 25  /* share of the cron period we may use */

/* One cycle over the databases; returns 1 if it ran out of time. Adds the
 * keys it sampled and found expired to *sampled and *expired. */
static int expire_cycle(shard_state *ss, int64_t start, int64_t budget_us, long *sampled,
                        long *expired_total) {
    store *st = ss->st;
    /* One shard per thread, so the round-robin position can be per thread. */
    static __thread int next_db;
    for (int visited = 0; visited < st->ndb; visited++) {
        db *d = store_db(st, next_db % st->ndb);
        next_db = (next_db + 1) % st->ndb;
        int steps = 0;
        for (;;) {
            size_t nexp = db_expires_size(d);
            if (nexp == 0) break;
            int samples = nexp < EXPIRE_CRON_SAMPLES ? (int)nexp : EXPIRE_CRON_SAMPLES;
            int expired = db_active_expire(d, samples);
            *sampled += samples;
            *expired_total += expired;
            /* Check the clock every 16 steps: it is cheap but not free. */
            if ((++steps & 15) == 0) {
                if (util_monotonic_us() - start > budget_us) return 1;
                ss_refresh_time(ss);
            }
            if (expired * 100 <= samples * EXPIRE_CRON_STALE_PERC) break;
        }
        if (util_monotonic_us() - start > budget_us) return 1;
    }
    return 0;
}

void expire_cron(shard_state *ss) {
    store *st = ss->st;
    if (!st->active_expire || st->ndb <= 0) return;
    int hz = ss->cfg.hz > 0 ? ss->cfg.hz : 10;
    int64_t budget_us = 1000000LL * EXPIRE_CRON_TIME_PERC / 100 / hz;
    int64_t start = util_monotonic_us();
    ss_refresh_time(ss);
    long sampled = 0, expired = 0;
    if (expire_cycle(ss, start, budget_us, &sampled, &expired)) ss->expire_cap_reached++;
    /* INFO's expire statistics, kept as Redis keeps them: the time spent,
     * and a moving average of the share of sampled keys found expired. */
    ss->expire_cycle_us += (uint64_t)(util_monotonic_us() - start);
    double perc = sampled ? (double)expired / (double)sampled : 0.0;
    ss->expire_stale_perc = perc * 0.05 + ss->expire_stale_perc * 0.95;
}
