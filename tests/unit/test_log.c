/* test_log.c — the personal-data helpers of log.c: with log-personal-data off (the default) IP
 * addresses lose their host part, names vanish, rooms and request paths become pseudonyms that
 * are stable within a run; with it on, everything passes unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "server/log.h"

static void test_off_masks(void **state)
{
    tf_log_set_personal_data(0);
    assert_string_equal(tf_log_addr("192.0.2.77"), "192.0.2.x");
    assert_string_equal(tf_log_addr("192.0.2.77:50123"), "192.0.2.x");
    assert_string_equal(tf_log_addr("[2001:db8:1:2::5]:443"), "2001:db8:1::x");
    assert_string_equal(tf_log_addr("2001:db8:1:2:3:4:5:6"), "2001:db8:1::x");
    assert_string_equal(tf_log_addr("2001:db8::1"), "2001:db8::x");
    assert_string_equal(tf_log_addr("::1"), "::x");
    assert_string_equal(tf_log_addr("not an address"), "-");
    assert_string_equal(tf_log_name("Anna Lehrerin"), "-");

    /* Room pseudonyms: stable within the run, distinct per room, never the name itself. */
    char a[64], b[64];
    snprintf(a, sizeof(a), "%s", tf_log_room("frau-mueller-7b"));
    snprintf(b, sizeof(b), "%s", tf_log_room("herr-schmidt"));
    assert_string_equal(a, tf_log_room("frau-mueller-7b"));
    assert_string_not_equal(a, b);
    assert_int_equal(strncmp(a, "room-", 5), 0);
    assert_int_equal(strlen(a), 13);
    assert_null(strstr(a, "mueller"));

    /* Paths keep the API's words and files, and pseudonymise the rest. */
    char want[128];
    snprintf(want, sizeof(want), "/whip/%s/", a);
    assert_int_equal(strncmp(tf_log_path("/whip/frau-mueller-7b/3fa9c0d1e2"), want, strlen(want)),
                     0);
    snprintf(want, sizeof(want), "/api/rooms/%s/mute", a);
    assert_string_equal(tf_log_path("/api/rooms/frau-mueller-7b/mute"), want);
    snprintf(want, sizeof(want), "/r/%s", a);
    assert_string_equal(tf_log_path("/r/frau-mueller-7b"), want);
    assert_string_equal(tf_log_path("/room.html"), "/room.html");
    assert_string_equal(tf_log_path("/metrics"), "/metrics");
    assert_string_equal(tf_log_path("/"), "/");

    /* Several helper results in one log call stay intact (rotating buffers). */
    const char *x = tf_log_room("a"), *y = tf_log_room("b"), *z = tf_log_addr("10.1.2.3");
    assert_string_not_equal(x, y);
    assert_string_equal(z, "10.1.2.x");

    /* Library lines: every dotted IPv4 address loses its host part, length kept. */
    char line[128] = "peer 203.0.113.45:4433 closed, 10.0.0.1 retried, v1.2 ok";
    tf_log_scrub_line(line);
    assert_string_equal(line, "peer 203.0.113.xx:4433 closed, 10.0.0.x retried, v1.2 ok");

    /* A new run draws a new key: the same room gets another pseudonym. */
    tf_log_set_personal_data(0);
    assert_string_not_equal(a, tf_log_room("frau-mueller-7b"));
}

static void test_on_passes_through(void **state)
{
    tf_log_set_personal_data(1);
    assert_string_equal(tf_log_addr("192.0.2.77:50123"), "192.0.2.77:50123");
    assert_string_equal(tf_log_name("Anna Lehrerin"), "Anna Lehrerin");
    assert_string_equal(tf_log_room("frau-mueller-7b"), "frau-mueller-7b");
    assert_string_equal(tf_log_path("/r/frau-mueller-7b"), "/r/frau-mueller-7b");
    char line[64] = "peer 203.0.113.45";
    tf_log_scrub_line(line);
    assert_string_equal(line, "peer 203.0.113.45");
    tf_log_set_personal_data(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_masks),
        cmocka_unit_test(test_on_passes_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
