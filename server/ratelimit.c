/* ratelimit.c — fixed-window failure counters with lockout (ratelimit.h). No clock, no sockets.
 *
 * A key's window starts at its first failure; after max_failures in it the key is refused until
 * the window ends, then starts afresh. When the table is full, an expired entry is reused, else
 * the entry whose window started longest ago: under a flood of fresh addresses an old lockout
 * may be forgotten early, which the per-room limit (a second key) still covers. */
#include "server/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char key[TF_RATELIMIT_KEY_MAX];
    int64_t start;
    int failures;
    int used;
} entry_t;

struct tf_ratelimit {
    tf_ratelimit_config_t cfg;
    entry_t *e;
};

int tf_ratelimit_create(tf_ratelimit_t **out, const tf_ratelimit_config_t *cfg)
{
    *out = NULL;
    if (!cfg || cfg->max_failures <= 0 || cfg->window_s <= 0 || cfg->capacity <= 0)
        return -EINVAL;
    tf_ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return -ENOMEM;
    rl->cfg = *cfg;
    rl->e = calloc((size_t)cfg->capacity, sizeof(*rl->e));
    if (!rl->e) {
        free(rl);
        return -ENOMEM;
    }
    *out = rl;
    return 0;
}

void tf_ratelimit_destroy(tf_ratelimit_t **rlp)
{
    tf_ratelimit_t *rl = *rlp;
    if (!rl)
        return;
    *rlp = NULL;
    free(rl->e);
    free(rl);
}

static int live(const tf_ratelimit_t *rl, const entry_t *e, int64_t now)
{
    return e->used && now >= e->start && now - e->start < rl->cfg.window_s;
}

static entry_t *find(tf_ratelimit_t *rl, const char *key)
{
    for (int i = 0; i < rl->cfg.capacity; i++)
        if (rl->e[i].used && strncmp(rl->e[i].key, key, TF_RATELIMIT_KEY_MAX - 1) == 0)
            return &rl->e[i];
    return NULL;
}

long tf_ratelimit_check(tf_ratelimit_t *rl, const char *key, int64_t now)
{
    entry_t *e = find(rl, key);
    if (!e || !live(rl, e, now) || e->failures < rl->cfg.max_failures)
        return 0;
    long left = (long)(e->start + rl->cfg.window_s - now);
    return left > 0 ? left : 1;
}

long tf_ratelimit_fail(tf_ratelimit_t *rl, const char *key, int64_t now)
{
    entry_t *e = find(rl, key);
    if (e && !live(rl, e, now))
        e->used = 0; /* the old window is over: start a new one below */
    if (!e || !e->used) {
        entry_t *victim = NULL;
        for (int i = 0; i < rl->cfg.capacity && !victim; i++)
            if (!live(rl, &rl->e[i], now))
                victim = &rl->e[i];
        if (!victim) { /* every slot is a live window: the oldest goes */
            victim = &rl->e[0];
            for (int i = 1; i < rl->cfg.capacity; i++)
                if (rl->e[i].start < victim->start)
                    victim = &rl->e[i];
        }
        e = victim;
        memset(e, 0, sizeof(*e));
        snprintf(e->key, sizeof(e->key), "%s", key);
        e->start = now;
        e->used = 1;
    }
    e->failures++;
    return tf_ratelimit_check(rl, key, now);
}

void tf_ratelimit_reset(tf_ratelimit_t *rl, const char *key)
{
    entry_t *e = find(rl, key);
    if (e)
        memset(e, 0, sizeof(*e));
}
