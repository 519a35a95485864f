/* test_websession.c — websession.c: the Cookie header parser (including hostile headers), the
 * Set-Cookie line, constant-time compares, the session table's idle/absolute expiry, eviction,
 * logout and CSRF tokens. Fake clock and a deterministic random source; no sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/websession.h"

static uint32_t seed = 1;

static int fake_random(uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    return 0;
}

static int broken_random(uint8_t *buf, size_t len)
{
    (void)buf, (void)len;
    return -EIO;
}

static void test_cookie_get(void **state)
{
    (void)state;
    char v[80];
    assert_int_equal(tf_cookie_get("a=1; tafel_session=abc; b=2", "tafel_session", v, sizeof(v)),
                     0);
    assert_string_equal(v, "abc");
    /* No space after ';', whitespace around '=', quoted value. */
    assert_int_equal(tf_cookie_get("a=1;tafel_session = \"q9\" ", "tafel_session", v, sizeof(v)),
                     0);
    assert_string_equal(v, "q9");
    /* A name that only starts or ends like ours is another cookie. */
    assert_int_equal(
        tf_cookie_get("xtafel_session=1; tafel_sessionx=2", "tafel_session", v, sizeof(v)),
        -ENOENT);
    assert_int_equal(tf_cookie_get("", "tafel_session", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_cookie_get(NULL, "tafel_session", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_cookie_get(";;; ;", "a", v, sizeof(v)), -ENOENT);
    /* Pairs without '=' are skipped, an empty value is a value. */
    assert_int_equal(tf_cookie_get("junk; a=", "a", v, sizeof(v)), 0);
    assert_string_equal(v, "");
}

static void test_cookie_hostile(void **state)
{
    (void)state;
    char v[16];
    /* Twice the same name (cookie tossing from a sibling host): refused, not first-wins. */
    assert_int_equal(tf_cookie_get("s=good; s=evil", "s", v, sizeof(v)), -EINVAL);
    assert_string_equal(v, "");
    /* Too long for the buffer: refused, never truncated into a different id. */
    assert_int_equal(tf_cookie_get("s=0123456789abcdef", "s", v, sizeof(v)), -EINVAL);
    assert_int_equal(tf_cookie_get("s=0123456789abcde", "s", v, sizeof(v)), 0);
    /* Control characters, quotes, commas, backslashes inside the value. */
    assert_int_equal(tf_cookie_get("s=a\x01"
                                   "b",
                                   "s", v, sizeof(v)),
                     -EINVAL);
    assert_int_equal(tf_cookie_get("s=a\"b", "s", v, sizeof(v)), -EINVAL);
    assert_int_equal(tf_cookie_get("s=a,b", "s", v, sizeof(v)), -EINVAL);
    assert_int_equal(tf_cookie_get("s=a\\b", "s", v, sizeof(v)), -EINVAL);
    assert_int_equal(tf_cookie_get("s=a b", "s", v, sizeof(v)), -EINVAL);
    /* A lone quote is not a quoted value. */
    assert_int_equal(tf_cookie_get("s=\"", "s", v, sizeof(v)), -EINVAL);
    /* Garbage in other cookies does not matter. */
    assert_int_equal(tf_cookie_get("x=\x01\x02; s=ok", "s", v, sizeof(v)), 0);
    assert_string_equal(v, "ok");
    /* A huge header of separators ends. */
    char big[5000];
    memset(big, ';', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(tf_cookie_get(big, "s", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_cookie_get("s=1", "", v, sizeof(v)), -EINVAL);
}

static void test_cookie_format(void **state)
{
    (void)state;
    char c[200];
    assert_int_equal(tf_cookie_format(c, sizeof(c), "s", "v1", -1, 1), 0);
    assert_string_equal(c, "s=v1; Path=/; HttpOnly; SameSite=Strict; Secure");
    assert_int_equal(tf_cookie_format(c, sizeof(c), "s", "", 0, 0), 0);
    assert_string_equal(c, "s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    assert_int_equal(tf_cookie_format(c, 20, "s", "v1", -1, 1), -ENOBUFS);
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(tf_ct_equal("abcd", "abcd", 4));
    assert_false(tf_ct_equal("abcd", "abce", 4));
    assert_false(tf_ct_equal("xbcd", "abcd", 4));
    assert_true(tf_ct_equal("a", "b", 0));
    assert_true(tf_ct_streq("token", "token"));
    assert_false(tf_ct_streq("token", "token2"));
    assert_false(tf_ct_streq("token", ""));
    assert_false(tf_ct_streq(NULL, "x"));
    assert_false(tf_ct_streq("x", NULL));
}

static tf_websession_table_t *table(int cap)
{
    tf_websession_config_t cfg = {
        .capacity = cap, .idle_s = 100, .absolute_s = 1000, .random = fake_random};
    tf_websession_table_t *t = NULL;
    assert_int_equal(tf_websession_table_create(&t, &cfg), 0);
    return t;
}

static void test_session_lifecycle(void **state)
{
    (void)state;
    tf_websession_table_t *t = table(8);
    tf_websession_t *s;
    assert_int_equal(tf_websession_create(t, 1000, 7, "anna@school.de", &s), 0);
    char id[TF_WEBSESSION_ID_LEN + 1], csrf[TF_WEBSESSION_ID_LEN + 1];
    memcpy(id, s->id, sizeof(id));
    memcpy(csrf, s->csrf, sizeof(csrf));
    assert_int_equal(strlen(id), 64);
    assert_int_equal(strspn(id, "0123456789abcdef"), 64);
    assert_string_not_equal(id, csrf);
    /* Found while used at least every idle_s seconds... */
    for (int64_t now = 1050; now < 1900; now += 99) {
        s = tf_websession_find(t, id, now);
        assert_non_null(s);
        assert_int_equal(s->teacher_id, 7);
    }
    /* ... but never beyond absolute_s after login, however busy. */
    assert_non_null(tf_websession_find(t, id, 1940));
    assert_non_null(tf_websession_find(t, id, 1999));
    assert_null(tf_websession_find(t, id, 2000));
    assert_int_equal(tf_websession_count(t), 0);

    /* Idle expiry. */
    assert_int_equal(tf_websession_create(t, 5000, 7, "anna@school.de", &s), 0);
    memcpy(id, s->id, sizeof(id));
    assert_non_null(tf_websession_find(t, id, 5099));
    assert_null(tf_websession_find(t, id, 5199));

    /* Unknown, wrong-length and one-character-off ids. */
    assert_int_equal(tf_websession_create(t, 6000, 7, "anna@school.de", &s), 0);
    memcpy(id, s->id, sizeof(id));
    char other[TF_WEBSESSION_ID_LEN + 1];
    memcpy(other, id, sizeof(other));
    other[10] = other[10] == 'a' ? 'b' : 'a';
    assert_null(tf_websession_find(t, other, 6001));
    assert_null(tf_websession_find(t, "abc", 6001));
    assert_null(tf_websession_find(t, NULL, 6001));
    assert_non_null(tf_websession_find(t, id, 6001));
    /* CSRF. */
    s = tf_websession_find(t, id, 6002);
    assert_true(tf_websession_csrf_ok(s, s->csrf));
    assert_false(tf_websession_csrf_ok(s, ""));
    assert_false(tf_websession_csrf_ok(s, s->id));
    assert_false(tf_websession_csrf_ok(s, NULL));
    assert_false(tf_websession_csrf_ok(NULL, "x"));
    /* Logout. */
    assert_int_equal(tf_websession_delete(t, id), 0);
    assert_int_equal(tf_websession_delete(t, id), -ENOENT);
    assert_null(tf_websession_find(t, id, 6003));
    tf_websession_table_destroy(&t);
    assert_null(t);
}

static void test_session_eviction_and_teacher(void **state)
{
    (void)state;
    tf_websession_table_t *t = table(3);
    char ids[4][TF_WEBSESSION_ID_LEN + 1];
    tf_websession_t *s;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tf_websession_create(t, 100 + i, i, "t@school.de", &s), 0);
        memcpy(ids[i], s->id, sizeof(ids[i]));
    }
    assert_non_null(tf_websession_find(t, ids[0], 110)); /* 0 is now the most recent */
    assert_int_equal(tf_websession_create(t, 111, 3, "t@school.de", &s), 0);
    memcpy(ids[3], s->id, sizeof(ids[3]));
    assert_int_equal(tf_websession_count(t), 3);
    assert_null(tf_websession_find(t, ids[1], 112)); /* the least recently used went */
    assert_non_null(tf_websession_find(t, ids[0], 112));
    assert_non_null(tf_websession_find(t, ids[2], 112));
    assert_int_equal(tf_websession_delete_teacher(t, 0), 1);
    assert_null(tf_websession_find(t, ids[0], 113));
    assert_int_equal(tf_websession_expire(t, 10000), 2);
    assert_int_equal(tf_websession_count(t), 0);
    /* No randomness, no session. */
    tf_websession_table_destroy(&t);
    tf_websession_config_t cfg = {
        .capacity = 2, .idle_s = 1, .absolute_s = 1, .random = broken_random};
    assert_int_equal(tf_websession_table_create(&t, &cfg), 0);
    assert_int_equal(tf_websession_create(t, 1, 1, "t@school.de", &s), -EIO);
    assert_null(s);
    assert_int_equal(tf_websession_count(t), 0);
    tf_websession_table_destroy(&t);
    cfg.capacity = 0;
    assert_int_equal(tf_websession_table_create(&t, &cfg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_get),
        cmocka_unit_test(test_cookie_hostile),
        cmocka_unit_test(test_cookie_format),
        cmocka_unit_test(test_ct_equal),
        cmocka_unit_test(test_session_lifecycle),
        cmocka_unit_test(test_session_eviction_and_teacher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
