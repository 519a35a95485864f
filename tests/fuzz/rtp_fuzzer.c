/* rtp_fuzzer.c — libFuzzer target for server/rtc/rtp.c: what parses must re-marshal to bytes that
 * parse to the same packet, RTX wrap + unwrap must restore it, and in-place rewrites must hold.
 * Not a crash-only fuzzer; it aborts on any broken round trip. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtp.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static bool element_profile(const tf_rtp_packet_t *p)
{
    return p->ext_profile == TF_RTP_EXT_ONE_BYTE ||
           (p->ext_profile & 0xfff0) == TF_RTP_EXT_TWO_BYTE;
}

static void check_same(const tf_rtp_packet_t *a, const tf_rtp_packet_t *b)
{
    CHECK(a->version == 2 && b->version == 2);
    CHECK(a->marker == b->marker && a->payload_type == b->payload_type);
    CHECK(a->seq == b->seq && a->timestamp == b->timestamp && a->ssrc == b->ssrc);
    CHECK(a->csrc_count == b->csrc_count);
    CHECK(!memcmp(a->csrc, b->csrc, sizeof(a->csrc[0]) * a->csrc_count));
    CHECK(a->extension == b->extension);
    if (a->extension) {
        CHECK(a->ext_profile == b->ext_profile && a->ext_count == b->ext_count);
        for (int i = 0; i < a->ext_count; i++) {
            CHECK(a->ext[i].id == b->ext[i].id && a->ext[i].len == b->ext[i].len);
            CHECK(!a->ext[i].len || !memcmp(a->ext[i].data, b->ext[i].data, a->ext[i].len));
        }
        if (!element_profile(a)) {
            CHECK(a->ext_raw_len == b->ext_raw_len);
            CHECK(!a->ext_raw_len || !memcmp(a->ext_raw, b->ext_raw, a->ext_raw_len));
        }
    }
    CHECK(a->payload_len == b->payload_len);
    CHECK(!a->payload_len || !memcmp(a->payload, b->payload, a->payload_len));
    CHECK(a->padding_len == b->padding_len);
}

static void check_rtx(const uint8_t *data, size_t size, const tf_rtp_packet_t *p)
{
    uint8_t *buf = malloc(size + 2);
    CHECK(buf);
    int w = tf_rtp_rtx_wrap(data, size, 97, 0x5eed, 7, buf, size + 2);
    CHECK(w == (int)(p->header_len + 2 + p->payload_len));
    tf_rtp_packet_t r;
    CHECK(tf_rtp_parse(&r, buf, (size_t)w) == 0);
    CHECK(r.payload_type == 97 && r.ssrc == 0x5eed && r.seq == 7 && r.padding_len == 0);
    CHECK(r.payload_len == p->payload_len + 2);
    CHECK((r.payload[0] << 8 | r.payload[1]) == p->seq);

    int u = tf_rtp_rtx_unwrap(buf, (size_t)w, p->payload_type, p->ssrc, buf, size + 2);
    CHECK(u == (int)(p->header_len + p->payload_len));
    CHECK(buf[0] == (data[0] & ~0x20));
    CHECK(!memcmp(buf + 1, data + 1, (size_t)u - 1));
    tf_rtp_packet_t want = *p;
    want.padding_len = 0;
    CHECK(tf_rtp_parse(&r, buf, (size_t)u) == 0);
    check_same(&want, &r);
    free(buf);
}

static void check_rewrites(const uint8_t *data, size_t size, const tf_rtp_packet_t *p)
{
    uint8_t *buf = malloc(size);
    CHECK(buf);
    memcpy(buf, data, size);
    /* Overwriting every extension with its own data changes nothing. */
    for (int i = 0; i < p->ext_count; i++)
        if (tf_rtp_ext_find(p, p->ext[i].id) == &p->ext[i])
            CHECK(tf_rtp_ext_overwrite(buf, size, p->ext[i].id, p->ext[i].data, p->ext[i].len) ==
                  0);
    CHECK(!memcmp(buf, data, size));

    CHECK(tf_rtp_rewrite_ssrc(buf, size, ~p->ssrc) == 0);
    CHECK(tf_rtp_rewrite_seq(buf, size, (uint16_t)(p->seq + 1)) == 0);
    CHECK(tf_rtp_rewrite_timestamp(buf, size, p->timestamp + 3000) == 0);
    CHECK(tf_rtp_rewrite_payload_type(buf, size, (uint8_t)(p->payload_type ^ 1)) == 0);
    tf_rtp_packet_t q;
    CHECK(tf_rtp_parse(&q, buf, size) == 0);
    CHECK(q.ssrc == ~p->ssrc && q.seq == (uint16_t)(p->seq + 1));
    CHECK(q.timestamp == p->timestamp + 3000 && q.payload_type == (p->payload_type ^ 1));
    CHECK(q.marker == p->marker && q.payload_len == p->payload_len);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CHECK(!(tf_rtp_is_rtp(data, size) && tf_rtp_is_rtcp(data, size)));
    tf_rtp_packet_t p, q;
    if (tf_rtp_parse(&p, data, size) != 0)
        return 0;
    CHECK(p.header_len + p.payload_len + p.padding_len == size);

    size_t n = tf_rtp_marshal_size(&p);
    CHECK(n >= TF_RTP_HEADER_SIZE && n <= size);
    uint8_t *out = malloc(n);
    CHECK(out);
    CHECK(tf_rtp_marshal_to(&p, out, n) == (int)n);
    CHECK(tf_rtp_marshal_to(&p, out, n - 1) == -ENOBUFS);
    CHECK(tf_rtp_parse(&q, out, n) == 0);
    check_same(&p, &q);
    free(out);

    check_rtx(data, size, &p);
    check_rewrites(data, size, &p);
    return 0;
}
