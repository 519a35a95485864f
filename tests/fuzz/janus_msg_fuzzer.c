/* janus_msg_fuzzer.c — libFuzzer target for bench/load/janus_msg.c (tafel-load's Janus API
 * side): the first byte picks the parser (a reply or long-poll batch; a chunked body; an SDP offer
 * answered as a subscriber), the rest is its input. Properties: counts stay within max, every
 * message's strings are terminated and its SDP is a real copy, a decoded chunked body is no longer
 * than its input and decoding is idempotent on an unchunked result, an answer is parseable SDP
 * with one m= section per offered one. Seeds in tests/fuzz/corpus/janus_msg/ are written by hand
 * from Janus 1.1 traffic. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load/janus_msg.h"
#include "server/rtc/sdp.h"

#define FUZZ_NAME "janus_msg_fuzzer"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 3;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (mode == 0) {
        tf_janus_msg_t m[4];
        int n = tf_janus_parse(in, len, m, 4);
        CHECK(n == -EPROTO || n == -ENOMEM || (n >= 1 && n <= 4));
        for (int i = 0; i < n; i++) {
            CHECK(m[i].kind >= TF_JANUS_OTHER && m[i].kind <= TF_JANUS_SLOWLINK);
            CHECK(strlen(m[i].videoroom) < sizeof(m[i].videoroom));
            CHECK(strlen(m[i].error) < sizeof(m[i].error));
            CHECK(strlen(m[i].jsep_type) < sizeof(m[i].jsep_type));
            CHECK(!m[i].sdp || (m[i].sdp < in || m[i].sdp >= in + len));
            CHECK(m[i].id < (1ull << 53) && m[i].sender < (1ull << 53));
            tf_janus_msg_clear(&m[i]);
            CHECK(m[i].sdp == NULL);
        }
    } else if (mode == 1) {
        char *out = malloc(len + 1), *again = malloc(len + 1);
        if (out && again) {
            int n = tf_janus_unchunk(in, len, out, len);
            CHECK(n == -EPROTO || (n >= 0 && (size_t)n <= len));
            if (n > 0 && (out[0] == '{' || out[0] == '[')) {
                int k = tf_janus_unchunk(out, (size_t)n, again, len);
                CHECK(k == n && memcmp(out, again, (size_t)n) == 0);
            }
        }
        free(out);
        free(again);
    } else {
        tf_sdp_t *o = malloc(sizeof(*o)), *a = malloc(sizeof(*a));
        char *buf = malloc(32768);
        if (o && a && buf && tf_sdp_parse(o, in, len, NULL, 0) == 0) {
            tf_janus_local_t l = {.ice_ufrag = "abcdefgh",
                                  .ice_pwd = "0123456789abcdefghijklmn",
                                  .fingerprint = "E8:9A:52:01:64:C0:4C:71:EE:0E:07:31:D0:DC:1A:E5:"
                                                 "21:3F:75:AA:88:4D:43:8D:AF:33:F0:6E:C8:26:60:73",
                                  .port = 9};
            int n = tf_janus_answer(o, &l, buf, 32768);
            CHECK(n == -EPROTO || n == -ENOBUFS || (n > 0 && n < 32768));
            /* an answer mirrors every section; tokens the offer smuggled in may break it, but
             * when it parses it has as many m= sections as the offer */
            if (n > 0 && tf_sdp_parse(a, buf, (size_t)n, NULL, 0) == 0)
                CHECK(a->n_media == o->n_media);
        }
        free(o);
        free(a);
        free(buf);
    }
    return 0;
}
