/* vp8_depacketizer_fuzzer.c — libFuzzer target for server/rtc/rtp_vp8.c: payload descriptors
 * and the whole-frame depacketizer.
 *
 * Input: packet records (tests/fuzz/packet_records.h: flags, length, payload); flag bits 5-7
 * pick the packetizer budget for the round trip.
 *
 * Not crash-only: a descriptor that parses must survive build + parse unchanged; a frame that
 * comes out must pass the frame tag check with the key frame flag it claims, start from a
 * packet with S and PID 0, and come back byte for byte through the packetizer and a fresh
 * depacketizer. Deterministic, no globals.
 *
 * The seeds in corpus/vp8_depacketizer/ were made once with tf_venc (64x64, a moving pattern)
 * and this file's packetizer at small budgets, with and without picture ids, plus variants with
 * a lost packet, a repeat, a reset and bad descriptors. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtp_vp8.h"

#define FUZZ_NAME "vp8_depacketizer_fuzzer"
#include "tests/fuzz/packet_records.h"

#define FRAME_CAP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_desc_round_trip(const uint8_t *p, size_t len)
{
    tf_rtp_vp8_desc_t a, b;
    size_t n, m;
    if (tf_rtp_vp8_desc_parse(&a, p, len, &n) != 0)
        return;
    CHECK(n >= 1 && n < len && n <= TF_RTP_VP8_MAX_DESC);
    uint8_t out[TF_RTP_VP8_MAX_DESC + 1];
    int w = tf_rtp_vp8_desc_build(&a, out, sizeof(out));
    CHECK(w > 0 && (size_t)w == tf_rtp_vp8_desc_size(&a) && (size_t)w <= n);
    out[w] = 0xaa; /* one payload byte */
    CHECK(tf_rtp_vp8_desc_parse(&b, out, (size_t)w + 1, &m) == 0 && m == (size_t)w);
    CHECK(!memcmp(&a, &b, sizeof(a)));
}

static void check_round_trip(const tf_rtp_vp8_frame_t *f, size_t budget, uint8_t *buf)
{
    tf_rtp_vp8_depacketizer_t d;
    tf_rtp_vp8_depacketize_init(&d, buf, FRAME_CAP);
    tf_rtp_vp8_desc_t tmpl = {.non_reference = f->non_reference,
                              .has_picture_id = f->has_picture_id,
                              .long_picture_id = f->picture_id > 0x7f,
                              .picture_id = f->picture_id};
    tf_rtp_vp8_packetizer_t pk;
    if (tf_rtp_vp8_packetize_init(&pk, f->data, f->size, &tmpl, budget) == -EINVAL) {
        CHECK(budget <= tf_rtp_vp8_desc_size(&tmpl));
        return;
    }
    uint8_t *payload = malloc(budget);
    CHECK(payload != NULL);
    uint16_t seq = 65535;
    bool marker = false, got = false;
    int len;
    while ((len = tf_rtp_vp8_packetize_next(&pk, payload, budget, &marker)) > 0) {
        CHECK((size_t)len <= budget && !got);
        CHECK(tf_rtp_vp8_depacketize_push(&d, seq++, 7, marker, payload, (size_t)len) == 0);
        tf_rtp_vp8_frame_t g;
        if (tf_rtp_vp8_depacketize_poll(&d, &g) == 0) {
            CHECK(marker);
            CHECK(g.size == f->size && !memcmp(g.data, f->data, f->size));
            CHECK(g.keyframe == f->keyframe && g.picture_id == f->picture_id);
            got = true;
        }
    }
    CHECK(len == -EAGAIN && marker && got);
    free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_rtp_vp8_depacketizer_t d;
    uint8_t *buf = malloc(FRAME_CAP), *buf2 = malloc(FRAME_CAP), *starts = calloc(65536, 1);
    CHECK(buf && buf2 && starts);
    tf_rtp_vp8_depacketize_init(&d, buf, FRAME_CAP);
    static const size_t budgets[8] = {2, 3, 5, 8, 50, 300, 1188, 1400};
    fuzz_records_t rec;
    fuzz_records_init(&rec, data, size);
    uint8_t flags;
    const uint8_t *payload;
    size_t len;
    while (fuzz_records_next(&rec, &flags, &payload, &len)) {
        check_desc_round_trip(payload, len);
        if (flags & 0x10)
            tf_rtp_vp8_depacketize_reset(&d);
        tf_rtp_vp8_desc_t desc;
        size_t n;
        starts[rec.seq] = tf_rtp_vp8_desc_parse(&desc, payload, len, &n) == 0 && desc.start &&
                          desc.partition == 0;
        int err = tf_rtp_vp8_depacketize_push(&d, rec.seq++, rec.ts, flags & 1, payload, len);
        CHECK(err == 0 || err == -EPROTO);
        tf_rtp_vp8_frame_t f;
        if (tf_rtp_vp8_depacketize_poll(&d, &f) != 0)
            continue;
        CHECK(flags & 1);
        CHECK(f.data == buf && f.size > 0 && f.timestamp == rec.ts);
        CHECK(f.last_seq == (uint16_t)(rec.seq - 1));
        bool key = !f.keyframe;
        CHECK(tf_rtp_vp8_frame_well_formed(f.data, f.size, &key) && key == f.keyframe);
        CHECK(starts[f.first_seq]); /* it began with S and PID 0 */
        CHECK(tf_rtp_vp8_depacketize_poll(&d, &f) == -EAGAIN);
        tf_rtp_vp8_frame_t copy = f;
        check_round_trip(&copy, budgets[flags >> 5], buf2);
    }
    free(buf);
    free(buf2);
    free(starts);
    return 0;
}
