/* test_load_janus.c — bench/load/janus_msg.c, tafel-load's side of the Janus HTTP API: replies
 * and long-poll batches as Janus 1.1 writes them (success ids, acks, events with a jsep, plugin
 * and core errors, keepalives), ids beyond 2^53 refused, chunked bodies decoded; the publisher
 * offer and the subscriber answer parsed back by Tafel's own SDP parser and checked for what
 * Janus needs (setup:active, BUNDLE, one candidate, recvonly, mirrored mids and payload types). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load/janus_msg.h"
#include "server/rtc/sdp.h"

static void test_success_and_ack(void **state)
{
    (void)state;
    tf_janus_msg_t m[4];
    const char *ok = "{\"janus\": \"success\", \"transaction\": \"t1\", \"data\": {\"id\": "
                     "5167178713531949}}";
    assert_int_equal(tf_janus_parse(ok, strlen(ok), m, 4), 1);
    assert_int_equal(m[0].kind, TF_JANUS_SUCCESS);
    assert_true(m[0].id == 5167178713531949ull);
    assert_int_equal(m[0].error_code, 0);
    assert_null(m[0].sdp);
    tf_janus_msg_clear(&m[0]);
    const char *ack = "{\"janus\":\"ack\",\"session_id\":1,\"transaction\":\"t2\"}";
    assert_int_equal(tf_janus_parse(ack, strlen(ack), m, 4), 1);
    assert_int_equal(m[0].kind, TF_JANUS_ACK);
    assert_true(m[0].id == 0);
    tf_janus_msg_clear(&m[0]);
}

static void test_event_batch(void **state)
{
    (void)state;
    const char *batch =
        "[{\"janus\": \"event\", \"session_id\": 7, \"sender\": 3385219391368345, "
        "\"plugindata\": {\"plugin\": \"janus.plugin.videoroom\", \"data\": {\"videoroom\": "
        "\"joined\", \"room\": 1000, \"id\": 1}}, \"jsep\": {\"type\": \"answer\", \"sdp\": "
        "\"v=0\\r\\no=- 1 2 IN IP4 127.0.0.1\\r\\n\"}},"
        "{\"janus\": \"webrtcup\", \"session_id\": 7, \"sender\": 42},"
        "{\"janus\": \"event\", \"sender\": 43, \"plugindata\": {\"plugin\": "
        "\"janus.plugin.videoroom\", \"data\": {\"videoroom\": \"event\", \"error_code\": 428, "
        "\"error\": \"No such feed (9)\"}}},"
        "{\"janus\": \"hangup\", \"sender\": 44, \"reason\": \"ICE failed\"}]";
    tf_janus_msg_t m[8];
    assert_int_equal(tf_janus_parse(batch, strlen(batch), m, 8), 4);
    assert_int_equal(m[0].kind, TF_JANUS_EVENT);
    assert_true(m[0].sender == 3385219391368345ull);
    assert_string_equal(m[0].videoroom, "joined");
    assert_string_equal(m[0].jsep_type, "answer");
    assert_string_equal(m[0].sdp, "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n");
    assert_int_equal(m[1].kind, TF_JANUS_WEBRTCUP);
    assert_true(m[1].sender == 42);
    assert_int_equal(m[2].error_code, 428);
    assert_string_equal(m[2].error, "No such feed (9)");
    assert_int_equal(m[3].kind, TF_JANUS_HANGUP);
    for (int i = 0; i < 4; i++)
        tf_janus_msg_clear(&m[i]);
    /* fewer slots than messages: the rest are dropped, not written past max */
    assert_int_equal(tf_janus_parse(batch, strlen(batch), m, 2), 2);
    assert_int_equal(m[1].kind, TF_JANUS_WEBRTCUP);
    tf_janus_msg_clear(&m[0]);
    tf_janus_msg_clear(&m[1]);
}

static void test_errors_and_rejects(void **state)
{
    (void)state;
    tf_janus_msg_t m[2];
    const char *err = "{\"janus\":\"error\",\"transaction\":\"x\",\"error\":{\"code\":458,"
                      "\"reason\":\"No such session 12\"}}";
    assert_int_equal(tf_janus_parse(err, strlen(err), m, 2), 1);
    assert_int_equal(m[0].kind, TF_JANUS_ERROR);
    assert_int_equal(m[0].error_code, 458);
    assert_string_equal(m[0].error, "No such session 12");
    tf_janus_msg_clear(&m[0]);
    const char *ka = "{\"janus\":\"keepalive\"}";
    assert_int_equal(tf_janus_parse(ka, strlen(ka), m, 2), 1);
    assert_int_equal(m[0].kind, TF_JANUS_KEEPALIVE);
    tf_janus_msg_clear(&m[0]);
    static const char *const bad[] = {
        "",
        "not json",
        "{\"transaction\":\"x\"}",                           /* no "janus" */
        "{\"janus\":5}",                                     /* not a string */
        "[{\"janus\":\"ack\"}, 7]",                          /* an element that is no object */
        "{\"janus\":\"success\",\"data\":{\"id\":-1}}",      /* negative id */
        "{\"janus\":\"success\",\"data\":{\"id\":1.5}}",     /* fractional id */
        "{\"janus\":\"event\",\"sender\":9007199254740992}", /* 2^53: not exact in JSON */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tf_janus_parse(bad[i], strlen(bad[i]), m, 2), -EPROTO);
    assert_int_equal(tf_janus_parse(ka, strlen(ka), m, 0), -EINVAL);
}

static void test_unchunk(void **state)
{
    (void)state;
    char out[128];
    /* Janus's libmicrohttpd: one chunk, then the last chunk */
    const char *c1 = "1d\r\n{\"janus\": \"keepalive\", \"a\":1}\r\n0\r\n\r\n";
    int n = tf_janus_unchunk(c1, strlen(c1), out, sizeof(out));
    assert_int_equal(n, 0x1d);
    assert_memory_equal(out, "{\"janus\": \"keepalive\", \"a\":1}", 0x1d);
    /* split over chunks, with an extension */
    const char *c2 = "3;x=y\r\n{\"j\r\n2\r\n\":\r\n1\r\n1\r\n1\r\n}\r\n0\r\n\r\n";
    n = tf_janus_unchunk(c2, strlen(c2), out, sizeof(out));
    assert_int_equal(n, 7);
    assert_memory_equal(out, "{\"j\":1}", 7);
    /* an unchunked body passes as it is */
    n = tf_janus_unchunk("{}", 2, out, sizeof(out));
    assert_int_equal(n, 2);
    /* truncated, malformed, too long for out */
    static const char *const bad[] = {"5\r\nabc", "zz\r\n", "3\r\nabcd\r\n0\r\n\r\n",
                                      "3\r\nabc\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tf_janus_unchunk(bad[i], strlen(bad[i]), out, sizeof(out)), -EPROTO);
    assert_int_equal(tf_janus_unchunk(c1, strlen(c1), out, 10), -ENOBUFS);
}

static const tf_janus_local_t LOCAL = {.ice_ufrag = "abcdefgh",
                                       .ice_pwd = "0123456789abcdefghijklmn",
                                       .fingerprint =
                                           "E8:9A:52:01:64:C0:4C:71:EE:0E:07:31:D0:DC:1A:E5:21:3F:"
                                           "75:AA:88:4D:43:8D:AF:33:F0:6E:C8:26:60:73",
                                       .ip = "10.254.0.1",
                                       .port = 40000,
                                       .a_ssrc = 1111,
                                       .v_ssrc = 2222};

static void test_offer(void **state)
{
    (void)state;
    char buf[4096];
    int n = tf_janus_offer(&LOCAL, buf, sizeof(buf));
    assert_true(n > 0);
    tf_sdp_t *s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_int_equal(tf_sdp_parse(s, buf, (size_t)n, NULL, 0), 0);
    assert_int_equal(s->n_media, 2);
    assert_int_equal(s->n_bundle, 2);
    for (int i = 0; i < 2; i++) {
        const tf_sdp_media_t *m = &s->media[i];
        assert_int_equal(m->tr.setup, TF_SDP_SETUP_ACTIVE);
        assert_int_equal(m->dir, TF_SDP_SENDONLY);
        assert_true(m->rtcp_mux);
        assert_string_equal(m->tr.ice_ufrag, "abcdefgh");
        assert_string_equal(m->tr.fingerprints[0].value, LOCAL.fingerprint);
        assert_int_equal(m->ssrcs[0].ssrc, i == 0 ? 1111 : 2222);
    }
    assert_int_equal(s->media[0].n_candidates, 1);
    assert_int_equal(s->media[0].candidates[0].addr.port, 40000);
    assert_string_equal(s->media[0].candidates[0].host, "10.254.0.1");
    assert_string_equal(s->media[0].codecs[0].name, "opus");
    assert_string_equal(s->media[1].codecs[0].name, "H264");
    assert_non_null(strstr(s->media[1].codecs[0].fmtp, "profile-level-id=42e01f"));
    assert_int_equal(tf_janus_offer(&LOCAL, buf, 100), -ENOBUFS);
    free(s);
}

/* An offer as Janus 1.1 VideoRoom writes it for a subscriber to two feeds. */
static const char JANUS_OFFER[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=VideoRoom 1000\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "DA:A2:41:52:BA:B2:21:11:28:D2:FD:60:D5:3C:1B:05:FF:38:99:D7:43:E4:80:07:71:8F:5D:D3:DB:BA:1C:"
    "D0"
    "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS *\r\na=ice-lite\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 10.254.0.1\r\na=sendonly\r\na=mid:0\r\n"
    "a=rtcp-mux\r\na=ice-ufrag:B0lT\r\na=ice-pwd:ykvyQuKm6sLy+uGLToAU+/\r\na=setup:actpass\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=msid:janus1 janusa1\r\n"
    "a=ssrc:11 cname:janus\r\na=candidate:1 1 udp 2015363327 10.254.0.1 39496 typ host\r\n"
    "a=end-of-candidates\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 10.254.0.1\r\na=sendonly\r\na=mid:1\r\n"
    "a=rtcp-mux\r\na=ice-ufrag:B0lT\r\na=ice-pwd:ykvyQuKm6sLy+uGLToAU+/\r\na=setup:actpass\r\n"
    "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\n"
    "a=fmtp:102 profile-level-id=42e01f;packetization-mode=1\r\na=ssrc:12 cname:janus\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 10.254.0.1\r\na=sendonly\r\na=mid:2\r\n"
    "a=rtcp-mux\r\na=ice-ufrag:B0lT\r\na=ice-pwd:ykvyQuKm6sLy+uGLToAU+/\r\na=setup:actpass\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=ssrc:21 cname:janus\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 10.254.0.1\r\na=inactive\r\na=mid:3\r\n"
    "a=rtpmap:102 H264/90000\r\n";

static void test_answer(void **state)
{
    (void)state;
    tf_sdp_t *o = malloc(sizeof(*o)), *a = malloc(sizeof(*a));
    assert_non_null(o);
    assert_non_null(a);
    assert_int_equal(tf_sdp_parse(o, JANUS_OFFER, sizeof(JANUS_OFFER) - 1, NULL, 0), 0);
    char buf[8192];
    int n = tf_janus_answer(o, &LOCAL, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tf_sdp_parse(a, buf, (size_t)n, NULL, 0), 0);
    assert_int_equal(a->n_media, 4);
    assert_int_equal(a->n_bundle, 3); /* the disabled section is not bundled */
    for (int i = 0; i < 3; i++) {
        const tf_sdp_media_t *m = &a->media[i];
        assert_string_equal(m->mid, o->media[i].mid);
        assert_int_equal(m->kind, o->media[i].kind);
        assert_int_equal(m->dir, TF_SDP_RECVONLY);
        assert_int_equal(m->tr.setup, TF_SDP_SETUP_ACTIVE);
        assert_int_equal(m->codecs[0].pt, o->media[i].codecs[0].pt);
        assert_string_equal(m->codecs[0].name, o->media[i].codecs[0].name);
        assert_int_equal(m->n_candidates, i == 0 ? 1 : 0);
    }
    assert_int_equal(a->media[3].port, 0);
    assert_int_equal(a->media[1].codecs[0].fb & TF_SDP_FB_NACK, TF_SDP_FB_NACK);
    assert_int_equal(tf_janus_answer(o, &LOCAL, buf, 200), -ENOBUFS);
    /* nothing to receive: refused */
    for (int i = 0; i < o->n_media; i++)
        o->media[i].port = 0;
    assert_int_equal(tf_janus_answer(o, &LOCAL, buf, sizeof(buf)), -EPROTO);
    free(o);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_and_ack),
        cmocka_unit_test(test_event_batch),
        cmocka_unit_test(test_errors_and_rejects),
        cmocka_unit_test(test_unchunk),
        cmocka_unit_test(test_offer),
        cmocka_unit_test(test_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
