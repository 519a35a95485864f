/* load_http_fuzzer.c — libFuzzer target for bench/load/http_msg.c (tafel-load's client side):
 * the first byte picks the parser (HTTP response, with or without end of stream; WebSocket frame;
 * room event JSON), the rest is its input. Properties: results stay inside the input, a parsed
 * WebSocket frame re-built and re-parsed gives the same opcode and payload, layout tiles are
 * within the counts. Seeds in tests/fuzz/corpus/load_http/ are written by hand (one per case). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/load/http_msg.h"

#define FUZZ_NAME "load_http_fuzzer"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 4;
    size_t len = size - 1;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, len);
    if (mode <= 1) {
        tf_load_http_resp_t r;
        int n = tf_load_http_parse((const char *)buf, len, mode == 1, &r);
        CHECK(n == -EAGAIN || n == -EPROTO || n == -E2BIG || n > 0);
        if (n > 0) {
            CHECK((size_t)n <= len);
            CHECK(r.status >= 100 && r.status <= 599);
            CHECK(r.header_len <= (size_t)n);
            CHECK(r.body == (const char *)buf + r.header_len);
            CHECK(r.header_len + r.body_len == (size_t)n || r.status == 101);
            CHECK(strlen(r.location) < sizeof(r.location));
        }
    } else if (mode == 2) {
        tf_load_ws_frame_t f;
        int n = tf_load_ws_parse(buf, len, &f);
        CHECK(n == -EAGAIN || n == -EPROTO || n == -E2BIG || n > 0);
        if (n > 0) {
            CHECK((size_t)n <= len && f.payload >= buf && f.payload + f.len <= buf + n);
            uint8_t *out = malloc(f.len + 14);
            uint8_t *copy = malloc(f.len ? f.len : 1);
            CHECK(out && copy);
            memcpy(copy, f.payload, f.len);
            int m = tf_load_ws_build(f.opcode, copy, f.len, 0xA1B2C3D4u, out, f.len + 14);
            CHECK(m > 0);
            tf_load_ws_frame_t g;
            CHECK(tf_load_ws_parse(out, (size_t)m, &g) == m);
            CHECK(g.opcode == f.opcode && g.len == f.len && g.fin);
            CHECK(f.len == 0 || memcmp(g.payload, copy, f.len) == 0);
            free(out);
            free(copy);
        }
    } else {
        tf_load_event_t ev;
        int e = tf_load_event_parse((const char *)buf, len, &ev);
        CHECK(e == 0 || e == -EPROTO);
        if (e == 0) {
            CHECK(ev.n_tiles >= 0 && ev.n_tiles <= TF_LOAD_MAX_TILES);
            CHECK(strlen(ev.tier) < sizeof(ev.tier));
        }
    }
    free(buf);
    return 0;
}
