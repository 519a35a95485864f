/* ratelimit.h — counts failures (wrong PINs, wrong passwords) per key ("room:SLUG", "addr:IP")
 * in a fixed window and locks a key out once it has too many. Sans-IO: callers pass `now` in
 * seconds; the table is bounded, so a flood of new keys cannot grow memory. */
#ifndef TF_RATELIMIT_H
#define TF_RATELIMIT_H

#include <stdint.h>

#define TF_RATELIMIT_KEY_MAX 96

typedef struct tf_ratelimit_config {
    int max_failures; /* failures allowed in one window (e.g. 5) ... */
    long window_s;    /* ... of this many seconds (e.g. 300); then locked until the window ends */
    int capacity;     /* keys tracked at once */
} tf_ratelimit_config_t;

typedef struct tf_ratelimit tf_ratelimit_t;

int tf_ratelimit_create(tf_ratelimit_t **rl, const tf_ratelimit_config_t *cfg);
void tf_ratelimit_destroy(tf_ratelimit_t **rl);

/* 0 when key may try now, else the seconds until it may (> 0, for Retry-After). */
long tf_ratelimit_check(tf_ratelimit_t *rl, const char *key, int64_t now);
/* Records one failure for key. Returns the seconds key is now locked out for (0: not locked). */
long tf_ratelimit_fail(tf_ratelimit_t *rl, const char *key, int64_t now);
/* Forgets key (e.g. after a successful login from that address). */
void tf_ratelimit_reset(tf_ratelimit_t *rl, const char *key);

#endif
