/* test_form.c — form.c: URL-encoded fields (escapes, '+', duplicates, hostile bytes, buffer
 * bounds) and JSON string escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "server/form.h"

static int get(const char *body, const char *key, char *out, size_t cap)
{
    return tf_form_get(body, strlen(body), key, out, cap);
}

static void test_form_get(void **state)
{
    (void)state;
    char v[32];
    assert_int_equal(get("email=a%40b.de&password=p+w%2B1", "email", v, sizeof(v)), 0);
    assert_string_equal(v, "a@b.de");
    assert_int_equal(get("email=a%40b.de&password=p+w%2B1", "password", v, sizeof(v)), 0);
    assert_string_equal(v, "p w+1");
    assert_int_equal(get("name=J%C3%BCrgen", "name", v, sizeof(v)), 0);
    assert_string_equal(v, "J\xc3\xbcrgen");
    assert_int_equal(get("a=1&b", "b", v, sizeof(v)), 0); /* a key without '=' is empty */
    assert_string_equal(v, "");
    assert_int_equal(get("ab=1&xa=2", "a", v, sizeof(v)), -ENOENT);
    assert_int_equal(get("", "a", v, sizeof(v)), -ENOENT);
    assert_int_equal(tf_form_get(NULL, 0, "a", v, sizeof(v)), -ENOENT);
    /* The body is not NUL-terminated: len counts. */
    assert_int_equal(tf_form_get("a=12345", 4, "a", v, sizeof(v)), 0);
    assert_string_equal(v, "12");
}

static void test_form_hostile(void **state)
{
    (void)state;
    char v[8];
    assert_int_equal(get("a=1&a=2", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=%", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=%4", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=%zz", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=%00x", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=x%0Ay", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=%7f", "a", v, sizeof(v)), -EINVAL);
    assert_int_equal(get("a=1234567", "a", v, sizeof(v)), 0);
    assert_int_equal(get("a=12345678", "a", v, sizeof(v)), -EINVAL);
    assert_string_equal(v, "");
}

static void test_json_escape(void **state)
{
    (void)state;
    char o[32];
    assert_int_equal(tf_json_escape(o, sizeof(o), "a\"b\\c\n\x01"), 0);
    assert_string_equal(o, "a\\\"b\\\\c\\u000a\\u0001");
    assert_int_equal(tf_json_escape(o, 5, "abc\"de"), -ENOBUFS);
    assert_string_equal(o, "abc"); /* never half an escape */
    assert_int_equal(tf_json_escape(o, sizeof(o), ""), 0);
    assert_string_equal(o, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_get),
        cmocka_unit_test(test_form_hostile),
        cmocka_unit_test(test_json_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
