/* test_room_msg.c — server/room_msg.c: the room WebSocket's messages, chat cleaning and
 * escaping, the per-sender rate limit and the lesson's chat history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "server/room_msg.h"

static int parse(const char *s, tf_room_msg_t *m)
{
    return tf_room_msg_parse(s, strlen(s), m);
}

static void test_parse(void **state)
{
    (void)state;
    tf_room_msg_t m;
    assert_int_equal(parse("{\"type\": \"mute\", \"audio\": true, \"video\": false}", &m), 0);
    assert_int_equal(m.type, TF_RMSG_MUTE);
    assert_int_equal(m.audio, 1);
    assert_int_equal(m.video, 0);
    assert_int_equal(parse("{\"type\":\"mute\",\"audio\":false}", &m), 0);
    assert_int_equal(m.audio, 0);
    assert_int_equal(m.video, -1);
    assert_int_equal(parse("{\"type\":\"moderate\",\"action\":\"mute\",\"target\":\"abc\"}", &m),
                     0);
    assert_int_equal(m.type, TF_RMSG_MODERATE);
    assert_string_equal(m.action, "mute");
    assert_string_equal(m.target, "abc");
    assert_string_equal(m.arg, "");
    assert_int_equal(parse("{\"type\":\"moderate\",\"action\":\"layout\",\"arg\":\"grid\"}", &m),
                     0);
    assert_string_equal(m.arg, "grid");
    assert_int_equal(parse("{\"type\":\"chat\",\"text\":\"Hallo \\u00e4\"}", &m), 0);
    assert_string_equal(m.text, "Hallo \xc3\xa4");
    assert_int_equal(parse("{\"type\":\"hand\",\"raised\":true}", &m), 0);
    assert_int_equal(m.raised, 1);
    assert_int_equal(parse("{\"type\":\"policy\",\"pupils_chat\":false}", &m), 0);
    assert_int_equal(m.pupils_chat, 0);
    assert_int_equal(m.pupils_unmute, -1);
    assert_int_equal(m.pupils_video, -1);
    assert_int_equal(parse("{\"type\":\"policy\",\"pupils_video\":false}", &m), 0);
    assert_int_equal(m.pupils_video, 0);
    assert_int_equal(m.pupils_chat, -1);
    assert_int_equal(parse("{\"type\":\"policy\",\"pupils_video\":1}", &m), -EINVAL);
    assert_int_equal(parse("{\"type\":\"screen\",\"on\":false,\"target\":\"x\"}", &m), 0);
    assert_int_equal(m.type, TF_RMSG_SCREEN);
    assert_int_equal(m.raised, 0);
    /* refused: not JSON, not an object, unknown type, wrong field types, missing fields,
     * too long, embedded NUL, duplicate keys */
    const char *bad[] = {
        "",
        "mute",
        "[1]",
        "{}",
        "{\"type\": 3}",
        "{\"type\": \"dance\"}",
        "{\"type\":\"mute\",\"audio\":\"yes\"}",
        "{\"type\":\"moderate\"}",
        "{\"type\":\"moderate\",\"action\":7}",
        "{\"type\":\"chat\"}",
        "{\"type\":\"hand\"}",
        "{\"type\":\"chat\",\"text\":\"a\\u0000b\"}",
        "{\"type\":\"chat\",\"type\":\"mute\",\"text\":\"x\"}",
        "{\"type\":\"moderate\",\"action\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse(bad[i], &m) != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
    char big[4096];
    memset(big, 'a', sizeof(big));
    memcpy(big, "{\"type\":\"chat\",\"text\":\"", 23);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    assert_int_equal(parse(big, &m), -EINVAL); /* longer than the text field */
}

static void test_clean(void **state)
{
    (void)state;
    char out[TF_CHAT_MAX_TEXT + 1];
    assert_int_equal(tf_chat_clean("  Hallo\tWelt\r\n ", out, sizeof(out)), 10);
    assert_string_equal(out, "Hallo Welt");
    /* BEL, ESC, DEL and C1 (U+0085) go; umlauts and emoji stay; invalid bytes and surrogates go */
    tf_chat_clean("a\x07"
                  "b\x1b[31mc\x7f"
                  "d\xc2\x85"
                  "e\xc3\xa4\xf0\x9f\x98\x80\xff\xed\xa0\x80"
                  "\xc0\xaf!",
                  out, sizeof(out));
    assert_string_equal(out, "ab[31mcde\xc3\xa4\xf0\x9f\x98\x80!");
    assert_int_equal(tf_chat_clean(" \x01\x02\t ", out, sizeof(out)), -EINVAL);
    assert_int_equal(tf_chat_clean("", out, sizeof(out)), -EINVAL);
    /* cut at the limit on a character boundary: 300 two-byte characters */
    char in[700] = "";
    for (int i = 0; i < 300; i++)
        strcat(in, "\xc3\xb6");
    int n = tf_chat_clean(in, out, sizeof(out));
    assert_int_equal(n, TF_CHAT_MAX_TEXT);
    assert_int_equal((unsigned char)out[n - 2], 0xc3);
    strcat(in, "x");                             /* odd limit test: 1 + 2k bytes */
    n = tf_chat_clean(in + 1, out, sizeof(out)); /* starts inside a character: dropped */
    assert_true(n <= TF_CHAT_MAX_TEXT && n > 0 && (unsigned char)out[0] == 0xc3);
}

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    size_t n = tf_chat_escape("a\"b\\c</script>\x01\xc3\xa4", out, sizeof(out));
    assert_string_equal(out, "a\\\"b\\\\c</script>\\u0001\xc3\xa4");
    assert_int_equal(n, strlen(out));
    char wrapped[80];
    snprintf(wrapped, sizeof(wrapped), "\"%s\"", out);
    json_error_t e;
    json_t *j = json_loads(wrapped, JSON_DECODE_ANY, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(j), "a\"b\\c</script>\x01\xc3\xa4");
    json_decref(j);
    /* too small: cut before a multi-byte character, never inside one or an escape */
    n = tf_chat_escape("ab\xc3\xa4", out, 4);
    assert_string_equal(out, "ab");
    n = tf_chat_escape("a\"", out, 3);
    assert_string_equal(out, "a");
}

static void test_rate_limit(void **state)
{
    (void)state;
    tf_chat_bucket_t b = {0};
    uint64_t t = 1000000000;
    int ok = 0;
    for (int i = 0; i < 20; i++)
        ok += tf_chat_allow(&b, t);
    assert_int_equal(ok, TF_CHAT_BURST);
    assert_int_equal(tf_chat_allow(&b, t + TF_CHAT_REFILL_US - 1), 0);
    assert_int_equal(tf_chat_allow(&b, t + TF_CHAT_REFILL_US), 1);
    assert_int_equal(tf_chat_allow(&b, t + TF_CHAT_REFILL_US), 0);
    /* a long pause refills to the burst, no more */
    t += 3600 * 1000000ull;
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += tf_chat_allow(&b, t);
    assert_int_equal(ok, TF_CHAT_BURST);
    /* a steady one message per refill interval is always allowed */
    for (int i = 1; i <= 50; i++)
        assert_int_equal(tf_chat_allow(&b, t + (uint64_t)i * TF_CHAT_REFILL_US), 1);
}

static void test_history(void **state)
{
    (void)state;
    tf_chat_log_t log = {0};
    char *j = tf_chat_log_json(&log);
    assert_string_equal(j, "{\"type\": \"chat-history\", \"messages\": []}");
    free(j);
    char ev[64];
    for (int i = 0; i < TF_CHAT_HISTORY + 7; i++) {
        snprintf(ev, sizeof(ev), "{\"type\": \"chat\", \"n\": %d}", i);
        assert_int_equal(tf_chat_log_add(&log, ev), 0);
    }
    assert_int_equal(log.len, TF_CHAT_HISTORY);
    j = tf_chat_log_json(&log);
    json_error_t e;
    json_t *o = json_loads(j, 0, &e);
    assert_non_null(o);
    json_t *msgs = json_object_get(o, "messages");
    assert_int_equal(json_array_size(msgs), TF_CHAT_HISTORY);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(msgs, 0), "n")), 7);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(msgs, TF_CHAT_HISTORY - 1), "n")),
        TF_CHAT_HISTORY + 6);
    json_decref(o);
    free(j);
    tf_chat_log_free(&log);
    assert_int_equal(log.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),   cmocka_unit_test(test_clean),
        cmocka_unit_test(test_escape),  cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
