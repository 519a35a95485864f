/* test_ratelimit.c — ratelimit.c: N failures per window then a lockout with the right
 * Retry-After, a fresh window afterwards, independent keys, reset, and a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/ratelimit.h"

static void test_lockout(void **state)
{
    (void)state;
    tf_ratelimit_t *rl = NULL;
    tf_ratelimit_config_t cfg = {.max_failures = 5, .window_s = 300, .capacity = 16};
    assert_int_equal(tf_ratelimit_create(&rl, &cfg), 0);
    /* Four failures spread over two minutes: still allowed. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.1", 1000 + 30 * i), 0);
        assert_int_equal(tf_ratelimit_fail(rl, "addr:10.0.0.1", 1000 + 30 * i), 0);
    }
    /* The fifth locks the key until the window that began at 1000 ends (1300). */
    assert_int_equal(tf_ratelimit_fail(rl, "addr:10.0.0.1", 1200), 100);
    assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.1", 1200), 100);
    assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.1", 1299), 1);
    /* Another key is not affected. */
    assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.2", 1200), 0);
    /* The window is over: allowed again, and it takes five new failures to lock again. */
    assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.1", 1300), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(tf_ratelimit_fail(rl, "addr:10.0.0.1", 1300 + i), 0);
    assert_int_equal(tf_ratelimit_fail(rl, "addr:10.0.0.1", 1310), 290);
    tf_ratelimit_reset(rl, "addr:10.0.0.1");
    assert_int_equal(tf_ratelimit_check(rl, "addr:10.0.0.1", 1311), 0);
    tf_ratelimit_destroy(&rl);
    assert_null(rl);
    cfg.window_s = 0;
    assert_int_equal(tf_ratelimit_create(&rl, &cfg), -EINVAL);
}

static void test_full_table(void **state)
{
    (void)state;
    tf_ratelimit_t *rl = NULL;
    tf_ratelimit_config_t cfg = {.max_failures = 2, .window_s = 60, .capacity = 4};
    assert_int_equal(tf_ratelimit_create(&rl, &cfg), 0);
    tf_ratelimit_fail(rl, "room:a", 100);
    tf_ratelimit_fail(rl, "room:a", 100);
    assert_true(tf_ratelimit_check(rl, "room:a", 101) > 0);
    /* A flood of new keys in the same window evicts the oldest window first, and expired
     * entries are reused before live ones. */
    char key[32];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof(key), "addr:%d", i);
        tf_ratelimit_fail(rl, key, 110 + i);
    }
    assert_true(tf_ratelimit_check(rl, "room:a", 115) > 0); /* still tracked: 4 slots */
    tf_ratelimit_fail(rl, "addr:99", 120);                  /* evicts room:a (oldest) */
    assert_int_equal(tf_ratelimit_check(rl, "room:a", 121), 0);
    tf_ratelimit_fail(rl, "addr:99", 121);
    assert_true(tf_ratelimit_check(rl, "addr:99", 122) > 0);
    /* After every window is over, new keys reuse slots without evicting live ones. */
    tf_ratelimit_fail(rl, "late", 500);
    tf_ratelimit_fail(rl, "late", 500);
    assert_int_equal(tf_ratelimit_check(rl, "late", 501), 59);
    /* Keys longer than the limit are cut, not overflowed. */
    char longkey[300];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_int_equal(tf_ratelimit_fail(rl, longkey, 600), 0);
    assert_int_equal(tf_ratelimit_fail(rl, longkey, 600), 60);
    tf_ratelimit_destroy(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lockout),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
