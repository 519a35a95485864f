/* h264_depacketizer_fuzzer.c — libFuzzer target for server/rtc/rtp_h264.c's depacketizer.
 *
 * Input: packet records (tests/fuzz/packet_records.h: flags, length, payload); flag bits 5-7
 * pick the packetizer budget for the round trip.
 *
 * Not crash-only: every frame that comes out must be well-formed Annex-B (start codes, F bit
 * clear, NAL types 1..23, no start code emulation, no trailing zero, the NAL count and key
 * frame flag it claims), and packetizing it again (tf_rtp_h264_annexb_split + the packetizer)
 * and depacketizing that must give the same bytes back. Deterministic, no globals.
 *
 * The seeds in corpus/h264_depacketizer/ were made once with tf_venc (64x64, a moving
 * pattern) and this file's packetizer at small budgets: key + inter frames, slices, STAP-A and
 * FU-A, and variants with a lost fragment, a repeat, a reset and malformed payloads. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtp_h264.h"

#define FUZZ_NAME "h264_depacketizer_fuzzer"
#include "tests/fuzz/packet_records.h"

#define FRAME_CAP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An independent Annex-B walk: returns the NAL count, checks every rule on the way. */
static int check_annexb(const uint8_t *p, size_t n, bool *has_idr)
{
    size_t i = 0;
    int count = 0;
    *has_idr = false;
    while (i < n) {
        size_t sc = n - i >= 4 && !memcmp(p + i, "\0\0\0\1", 4) ? 4 : 3;
        CHECK(n - i > sc && !memcmp(p + i + sc - 3, "\0\0\1", 3));
        i += sc;
        size_t start = i;
        uint8_t h = p[i];
        CHECK(!(h & 0x80));
        CHECK((h & 0x1f) >= 1 && (h & 0x1f) <= 23);
        uint8_t type = h & 0x1f;
        /* The first NAL and SPS/PPS get the long start code, the others the short one. */
        CHECK(sc == (count == 0 || type == 7 || type == 8 ? 4u : 3u));
        *has_idr = *has_idr || type == 5;
        int zeros = 0;
        while (i < n) {
            if (zeros >= 2 && p[i] <= 1) {
                /* Only a start code (or the zero_byte of one) may follow two zeros. */
                CHECK(p[i] == 1 || (i + 1 < n && p[i + 1] == 1));
                i -= 2;
                break;
            }
            CHECK(!(zeros >= 2 && p[i] == 2));
            zeros = p[i] == 0 ? zeros + 1 : 0;
            i++;
        }
        CHECK(i > start);
        CHECK(p[i - 1] != 0); /* no trailing zero */
        count++;
    }
    return count;
}

/* Packetizes the frame again and depacketizes it in a fresh depacketizer, after a one-NAL
 * frame so that the first packet follows a marker. */
static void check_round_trip(const tf_rtp_h264_frame_t *f, size_t budget, uint8_t *buf)
{
    tf_venc_packet_t *au = malloc(sizeof(*au));
    tf_rtp_h264_depacketizer_t *d = malloc(sizeof(*d));
    uint8_t *payload = malloc(budget);
    CHECK(au && d && payload);
    int n = tf_rtp_h264_annexb_split(f->data, f->size, au);
    if (n == -EMSGSIZE) /* more NALs than an encoder's table holds */
        goto out;
    CHECK(n == f->nal_count);
    CHECK(!!au->keyframe == f->keyframe);
    tf_rtp_h264_depacketize_init(d, buf, FRAME_CAP);
    const uint8_t aud[] = {0x09, 0xf0};
    CHECK(tf_rtp_h264_depacketize_push(d, 1, 0, true, aud, sizeof(aud)) == 0);
    tf_rtp_h264_frame_t g;
    CHECK(tf_rtp_h264_depacketize_poll(d, &g) == 0);
    tf_rtp_h264_packetizer_t pk;
    CHECK(tf_rtp_h264_packetize_init(&pk, au, budget) == 0);
    uint16_t seq = 2;
    bool marker = false, got = false;
    int len;
    while ((len = tf_rtp_h264_packetize_next(&pk, payload, budget, &marker)) > 0) {
        CHECK((size_t)len <= budget);
        CHECK(!got);
        CHECK(tf_rtp_h264_depacketize_push(d, seq++, 90, marker, payload, (size_t)len) == 0);
        if (tf_rtp_h264_depacketize_poll(d, &g) == 0) {
            CHECK(marker);
            CHECK(g.size == f->size && !memcmp(g.data, f->data, f->size));
            CHECK(g.keyframe == f->keyframe && g.has_sps_pps == f->has_sps_pps);
            got = true;
        }
    }
    CHECK(len == -EAGAIN && marker && got);
out:
    free(au);
    free(d);
    free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_rtp_h264_depacketizer_t *d = malloc(sizeof(*d));
    uint8_t *buf = malloc(FRAME_CAP), *buf2 = malloc(FRAME_CAP);
    CHECK(d && buf && buf2);
    tf_rtp_h264_depacketize_init(d, buf, FRAME_CAP);
    static const size_t budgets[8] = {3, 4, 7, 20, 100, 300, 1188, 1400};
    fuzz_records_t rec;
    fuzz_records_init(&rec, data, size);
    uint8_t flags;
    const uint8_t *payload;
    size_t len;
    while (fuzz_records_next(&rec, &flags, &payload, &len)) {
        if (flags & 0x10)
            tf_rtp_h264_depacketize_reset(d);
        int err = tf_rtp_h264_depacketize_push(d, rec.seq++, rec.ts, flags & 1, payload, len);
        CHECK(err == 0 || err == -EPROTO);
        tf_rtp_h264_frame_t f;
        if (tf_rtp_h264_depacketize_poll(d, &f) != 0)
            continue;
        CHECK(flags & 1); /* frames end on a marker */
        CHECK(f.data == buf && f.size > 0 && f.size <= FRAME_CAP);
        CHECK(f.timestamp == rec.ts && f.last_seq == (uint16_t)(rec.seq - 1));
        bool idr;
        CHECK(check_annexb(f.data, f.size, &idr) == f.nal_count);
        CHECK(idr == f.keyframe);
        CHECK(tf_rtp_h264_depacketize_poll(d, &f) == -EAGAIN);
        tf_rtp_h264_frame_t copy = f;
        check_round_trip(&copy, budgets[flags >> 5], buf2);
    }
    free(d);
    free(buf);
    free(buf2);
    return 0;
}
