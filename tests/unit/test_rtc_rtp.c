/* test_rtc_rtp.c — server/rtc/rtp.c against hand-made RFC 3550/8285/4588 packets: byte-exact
 * parse and build, extensions, rewrites, RTX, sequence helpers, truncation. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtp.h"

/* clang-format off */
/* V=2, M=1, PT=96, seq 0x1234, ts 0xdeadbeef, SSRC 0x11223344, payload "abc". */
static const uint8_t plain[] = {
    0x80, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 'a', 'b', 'c',
};

/* P=1, CC=2, PT=8, 3 bytes of payload and 4 of padding (count 4). */
static const uint8_t csrc_padded[] = {
    0xa2, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xca, 0xfe, 0xba, 0xbe, /* fixed */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,                         /* CSRCs */
    0x01, 0x02, 0x03,                                                       /* payload */
    0x00, 0x00, 0x00, 0x04,                                                 /* padding */
};

/* What Chrome sends for Opus: one-byte extensions audio-level (id 1), abs-send-time (2),
 * transport-wide-cc (3), mid (4); 11 bytes of elements padded to 3 words. */
static const uint8_t chrome_audio[] = {
    0x90, 0x6f, 0x5b, 0x2c, 0x00, 0x01, 0xe2, 0x40, 0x6b, 0x8b, 0x45, 0x67, /* X=1 PT=111 */
    0xbe, 0xde, 0x00, 0x03,                                                 /* one-byte form */
    0x10, 0xaa,                   /* id 1, L=0: V=1, level 42 */
    0x22, 0x12, 0x34, 0x56,       /* id 2, L=2: abs-send-time 0x123456 */
    0x31, 0x01, 0x02,             /* id 3, L=1: transport-cc seq 258 */
    0x40, '0',                    /* id 4, L=0: mid "0" */
    0x00,                         /* padding */
    0xfc, 0xff, 0xfe,             /* Opus payload */
};
/* clang-format on */

static uint8_t *dup_exact(const uint8_t *b, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, b, n);
    return p;
}

static void assert_rebuilds(const uint8_t *bytes, size_t len)
{
    tf_rtp_packet_t p;
    uint8_t out[256];
    assert_int_equal(tf_rtp_parse(&p, bytes, len), 0);
    assert_int_equal(tf_rtp_marshal_size(&p), len);
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), (int)len);
    assert_memory_equal(out, bytes, len);
    for (size_t cap = 0; cap < len; cap++)
        assert_int_equal(tf_rtp_marshal_to(&p, out, cap), -ENOBUFS);
}

static void test_parse_plain(void **state)
{
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, plain, sizeof(plain)), 0);
    assert_int_equal(p.version, 2);
    assert_false(p.extension);
    assert_true(p.marker);
    assert_int_equal(p.payload_type, 96);
    assert_int_equal(p.seq, 0x1234);
    assert_int_equal(p.timestamp, 0xdeadbeef);
    assert_int_equal(p.ssrc, 0x11223344);
    assert_int_equal(p.csrc_count, 0);
    assert_int_equal(p.header_len, 12);
    assert_int_equal(p.payload_len, 3);
    assert_ptr_equal(p.payload, plain + 12);
    assert_int_equal(p.padding_len, 0);
    assert_rebuilds(plain, sizeof(plain));
}

static void test_parse_csrc_padding(void **state)
{
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, csrc_padded, sizeof(csrc_padded)), 0);
    assert_int_equal(p.csrc_count, 2);
    assert_int_equal(p.csrc[0], 1);
    assert_int_equal(p.csrc[1], 2);
    assert_false(p.marker);
    assert_int_equal(p.payload_type, 8);
    assert_int_equal(p.timestamp, 0xa0);
    assert_int_equal(p.header_len, 20);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.padding_len, 4);
    assert_rebuilds(csrc_padded, sizeof(csrc_padded));
}

static void test_build_from_scratch(void **state)
{
    static const uint8_t payload[] = {1, 2, 3, 4, 5};
    tf_rtp_packet_t p = {.payload_type = 96,
                         .seq = 65535,
                         .timestamp = 3000,
                         .ssrc = 42,
                         .payload = payload,
                         .payload_len = sizeof(payload),
                         .padding_len = 3};
    uint8_t out[64];
    /* clang-format off */
    static const uint8_t want[] = {0xa0, 0x60, 0xff, 0xff, 0, 0, 0x0b, 0xb8, 0, 0, 0, 42,
                                   1,    2,    3,    4,    5, 0, 0,    3};
    /* clang-format on */
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));

    p.payload_type = 128;
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), -EINVAL);
    p.payload_type = 96;
    p.csrc_count = 16;
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), -EINVAL);
}

static void test_chrome_extensions(void **state)
{
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, chrome_audio, sizeof(chrome_audio)), 0);
    assert_true(p.extension);
    assert_int_equal(p.ext_profile, TF_RTP_EXT_ONE_BYTE);
    assert_int_equal(p.ext_count, 4);
    assert_int_equal(p.header_len, 28);
    assert_int_equal(p.payload_len, 3);
    assert_int_equal(p.payload[0], 0xfc);

    bool voice;
    uint8_t level;
    uint32_t ast;
    uint16_t twcc;
    char mid[17];
    assert_int_equal(tf_rtp_get_audio_level(&p, 1, &voice, &level), 0);
    assert_true(voice);
    assert_int_equal(level, 42);
    assert_int_equal(tf_rtp_get_abs_send_time(&p, 2, &ast), 0);
    assert_int_equal(ast, 0x123456);
    assert_int_equal(tf_rtp_get_twcc_seq(&p, 3, &twcc), 0);
    assert_int_equal(twcc, 258);
    assert_int_equal(tf_rtp_get_mid(&p, 4, mid, sizeof(mid)), 0);
    assert_string_equal(mid, "0");
    assert_int_equal(tf_rtp_get_mid(&p, 4, mid, 1), -ENOBUFS);
    assert_int_equal(tf_rtp_get_mid(&p, 9, mid, sizeof(mid)), -ENOENT);
    assert_int_equal(tf_rtp_get_abs_send_time(&p, 3, &ast), -EPROTO); /* 2 bytes, not 3 */
    assert_rebuilds(chrome_audio, sizeof(chrome_audio));
}

static void test_build_chrome_like(void **state)
{
    /* Build the same packet from values with the encoders; the result must be byte-identical. */
    uint8_t al[1], ast[3], tw[2];
    tf_rtp_packet_t p = {.payload_type = 111,
                         .seq = 0x5b2c,
                         .timestamp = 123456,
                         .ssrc = 0x6b8b4567,
                         .payload = chrome_audio + 28,
                         .payload_len = 3};
    tf_rtp_put_audio_level(al, true, 42);
    tf_rtp_put_abs_send_time(ast, 0x123456);
    tf_rtp_put_twcc_seq(tw, 258);
    assert_int_equal(tf_rtp_ext_set(&p, 1, al, 1), 0);
    assert_int_equal(tf_rtp_ext_set(&p, 2, ast, 3), 0);
    assert_int_equal(tf_rtp_ext_set(&p, 3, tw, 2), 0);
    assert_int_equal(tf_rtp_ext_set(&p, 4, (const uint8_t *)"0", 1), 0);
    uint8_t out[64];
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), sizeof(chrome_audio));
    assert_memory_equal(out, chrome_audio, sizeof(chrome_audio));

    /* Stamping a new transport-cc seq at send time, in place. */
    uint8_t tw2[2];
    tf_rtp_put_twcc_seq(tw2, 0xbeef);
    assert_int_equal(tf_rtp_ext_overwrite(out, sizeof(chrome_audio), 3, tw2, 2), 0);
    assert_int_equal(out[23], 0xbe);
    assert_int_equal(out[24], 0xef);
    assert_int_equal(tf_rtp_ext_overwrite(out, sizeof(chrome_audio), 3, tw2, 1), -EINVAL);
    assert_int_equal(tf_rtp_ext_overwrite(out, sizeof(chrome_audio), 7, tw2, 2), -ENOENT);
    assert_int_equal(tf_rtp_ext_overwrite(out, 5, 3, tw2, 2), -EPROTO);
}

static void test_two_byte_form(void **state)
{
    /* clang-format off */
    static const uint8_t pkt[] = {
        0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, /* X=1 */
        0x10, 0x02, 0x00, 0x06,                   /* two-byte form, appbits 2, 6 words */
        20,   0,                                  /* id 20, empty */
        0,                                        /* padding between elements */
        5,    17,   'a',  'b',  'c',  'd',  'e',  'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
        'p',  'q',                                /* id 5, 17 bytes */
        0x00, 0x00,                               /* padding */
        0x99,                                     /* payload */
    };
    /* clang-format on */
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, pkt, sizeof(pkt)), 0);
    assert_int_equal(p.ext_profile, 0x1002);
    assert_int_equal(p.ext_count, 2);
    assert_int_equal(p.ext[0].id, 20);
    assert_int_equal(p.ext[0].len, 0);
    assert_int_equal(p.ext[1].id, 5);
    assert_int_equal(p.ext[1].len, 17);
    assert_memory_equal(p.ext[1].data, "abcdefghijklmnopq", 17);
    assert_int_equal(p.payload_len, 1);

    /* Marshal moves the inner padding byte to the end: same size, same elements. */
    uint8_t out[64];
    int n = tf_rtp_marshal_to(&p, out, sizeof(out));
    assert_int_equal(n, (int)sizeof(pkt));
    assert_memory_equal(out + 16, "\x14\x00\x05\x11", 4);
    tf_rtp_packet_t q;
    assert_int_equal(tf_rtp_parse(&q, out, (size_t)n), 0);
    assert_int_equal(q.ext_profile, 0x1002);
    assert_int_equal(q.ext_count, 2);
    assert_memory_equal(q.ext[1].data, "abcdefghijklmnopq", 17);
}

static void test_auto_form(void **state)
{
    static const uint8_t big[20] = {0};
    uint8_t out[128];
    tf_rtp_packet_t p = {.payload_type = 100}, q;
    assert_int_equal(tf_rtp_ext_set(&p, 14, big, 16), 0);
    assert_int_equal(tf_rtp_marshal_to(&p, out, sizeof(out)), 12 + 4 + 20);
    assert_int_equal(tf_rtp_parse(&q, out, 36), 0);
    assert_int_equal(q.ext_profile, TF_RTP_EXT_ONE_BYTE);

    assert_int_equal(tf_rtp_ext_set(&p, 15, big, 1), 0); /* id 15: two-byte form needed */
    int n = tf_rtp_marshal_to(&p, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(tf_rtp_parse(&q, out, (size_t)n), 0);
    assert_int_equal(q.ext_profile, TF_RTP_EXT_TWO_BYTE);
    assert_int_equal(q.ext_count, 2);
    assert_int_equal(tf_rtp_ext_find(&q, 15)->len, 1);

    /* A parsed one-byte packet upgrades when an element does not fit. */
    assert_int_equal(tf_rtp_parse(&q, chrome_audio, sizeof(chrome_audio)), 0);
    assert_int_equal(tf_rtp_ext_set(&q, 2, big, 20), 0);
    assert_int_equal(q.ext_profile, TF_RTP_EXT_TWO_BYTE);
    n = tf_rtp_marshal_to(&q, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(tf_rtp_parse(&q, out, (size_t)n), 0);
    assert_int_equal(tf_rtp_ext_find(&q, 2)->len, 20);

    /* Forcing the one-byte profile with an element it cannot carry is refused. */
    q.ext_profile = TF_RTP_EXT_ONE_BYTE;
    assert_int_equal(tf_rtp_marshal_to(&q, out, sizeof(out)), -EINVAL);
    assert_int_equal(tf_rtp_ext_set(&q, 0, big, 1), -EINVAL);
    tf_rtp_packet_t full = {0};
    for (int i = 1; i <= TF_RTP_MAX_EXT; i++)
        assert_int_equal(tf_rtp_ext_set(&full, (uint8_t)i, big, 1), 0);
    assert_int_equal(tf_rtp_ext_set(&full, 200, big, 1), -ENOSPC);
}

static void test_one_byte_id15_and_padding(void **state)
{
    /* clang-format off */
    static const uint8_t pkt[] = {
        0x90, 0x60, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0x00, 0x02,
        0x00, 0x51, 0xaa, 0x00, /* pad byte, id 5 L=1 (2 bytes: 0xaa 0x00), */
        0xf3, 0x21, 0x22, 0x00, /* id 15: stop here; the rest is ignored */
    };
    /* clang-format on */
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, pkt, sizeof(pkt)), 0);
    assert_int_equal(p.ext_count, 1);
    assert_int_equal(p.ext[0].id, 5);
    assert_int_equal(p.ext[0].len, 2);
    assert_int_equal(p.payload_len, 0);
}

static void test_malformed(void **state)
{
    tf_rtp_packet_t p;
    uint8_t b[64];

    memcpy(b, plain, sizeof(plain));
    b[0] = 0x40; /* version 1 */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(plain)), -EPROTO);

    memcpy(b, plain, sizeof(plain));
    b[0] = 0x81; /* one CSRC, but only 3 bytes follow */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(plain)), -EPROTO);

    memcpy(b, plain, sizeof(plain));
    b[0] = 0xa0; /* P=1, count 'c' = 99 > 3 */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(plain)), -EPROTO);
    b[14] = 0; /* count 0 */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(plain)), -EPROTO);
    b[14] = 3; /* the whole payload is padding: fine */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(plain)), 0);
    assert_int_equal(p.payload_len, 0);

    memcpy(b, chrome_audio, sizeof(chrome_audio));
    b[15] = 9; /* extension length past the end */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(chrome_audio)), -EPROTO);

    memcpy(b, chrome_audio, sizeof(chrome_audio));
    b[25] = 0x4f; /* mid element now claims 16 bytes, past its block */
    assert_int_equal(tf_rtp_parse(&p, b, sizeof(chrome_audio)), -EPROTO);

    /* More elements than TF_RTP_MAX_EXT. */
    uint8_t many[12 + 4 + 40] = {0x90, 0x60};
    many[12] = 0xbe, many[13] = 0xde, many[15] = 10;
    for (int i = 0; i < 20; i++)
        many[16 + 2 * i] = (uint8_t)(((i % 14) + 1) << 4);
    assert_int_equal(tf_rtp_parse(&p, many, sizeof(many)), -EPROTO);
}

static void test_truncated_every_length(void **state)
{
    static const uint8_t *const pkts[] = {plain, csrc_padded, chrome_audio};
    static const size_t lens[] = {sizeof(plain), sizeof(csrc_padded), sizeof(chrome_audio)};
    for (size_t k = 0; k < 3; k++) {
        tf_rtp_packet_t p;
        assert_int_equal(tf_rtp_parse(&p, pkts[k], lens[k]), 0);
        size_t header = p.header_len;
        for (size_t n = 0; n < lens[k]; n++) {
            uint8_t *b = dup_exact(pkts[k], n); /* exact size: ASan catches any overread */
            int r = tf_rtp_parse(&p, b, n);
            if (n < header)
                assert_int_equal(r, -EPROTO);
            else if (r == 0)
                assert_true(p.header_len + p.payload_len + p.padding_len == n);
            else
                assert_int_equal(r, -EPROTO);
            uint8_t out[64];
            assert_true(tf_rtp_rtx_wrap(b, n, 97, 1, 1, out, sizeof(out)) < 0 || n >= header);
            assert_int_equal(tf_rtp_rewrite_seq(b, n, 1), n < 12 ? -EPROTO : 0);
            free(b);
        }
    }
}

static void test_rewrite(void **state)
{
    uint8_t b[sizeof(plain)];
    memcpy(b, plain, sizeof(plain));
    assert_int_equal(tf_rtp_rewrite_ssrc(b, sizeof(b), 0xa1b2c3d4), 0);
    assert_int_equal(tf_rtp_rewrite_seq(b, sizeof(b), 7), 0);
    assert_int_equal(tf_rtp_rewrite_timestamp(b, sizeof(b), 0x01020304), 0);
    assert_int_equal(tf_rtp_rewrite_payload_type(b, sizeof(b), 102), 0);
    assert_int_equal(tf_rtp_rewrite_payload_type(b, sizeof(b), 128), -EINVAL);
    /* clang-format off */
    static const uint8_t want[] = {0x80, 0xe6, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04,
                                   0xa1, 0xb2, 0xc3, 0xd4, 'a',  'b',  'c'};
    /* clang-format on */
    assert_memory_equal(b, want, sizeof(want));
    assert_int_equal(tf_rtp_rewrite_marker(b, sizeof(b), false), 0);
    assert_int_equal(b[1], 102);
    assert_int_equal(tf_rtp_rewrite_ssrc(b, 11, 1), -EPROTO);
}

static void test_rtx_round_trip(void **state)
{
    /* An original with CSRCs, extensions and padding. */
    uint8_t orig[64], rtx[80], back[80];
    size_t olen = 0;
    memcpy(orig, chrome_audio, sizeof(chrome_audio));
    olen = sizeof(chrome_audio);
    orig[0] |= 0x20;
    orig[olen++] = 0;
    orig[olen++] = 2; /* 2 bytes of padding */

    int n = tf_rtp_rtx_wrap(orig, olen, 97, 0xabcdef01, 900, rtx, sizeof(rtx));
    assert_int_equal(n, 28 + 2 + 3);
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, rtx, (size_t)n), 0);
    assert_int_equal(p.payload_type, 97);
    assert_int_equal(p.ssrc, 0xabcdef01);
    assert_int_equal(p.seq, 900);
    assert_int_equal(p.padding_len, 0);
    assert_int_equal(p.timestamp, 123456);
    assert_int_equal(p.ext_count, 4);
    assert_int_equal(p.payload[0] << 8 | p.payload[1], 0x5b2c); /* OSN */
    assert_memory_equal(p.payload + 2, chrome_audio + 28, 3);

    int m = tf_rtp_rtx_unwrap(rtx, (size_t)n, 111, 0x6b8b4567, back, sizeof(back));
    assert_int_equal(m, (int)sizeof(chrome_audio));
    assert_memory_equal(back, chrome_audio, sizeof(chrome_audio));

    /* In place, both ways. */
    uint8_t buf[80];
    memcpy(buf, chrome_audio, sizeof(chrome_audio));
    n = tf_rtp_rtx_wrap(buf, sizeof(chrome_audio), 97, 5, 6, buf, sizeof(buf));
    assert_int_equal(n, (int)sizeof(chrome_audio) + 2);
    m = tf_rtp_rtx_unwrap(buf, (size_t)n, 111, 0x6b8b4567, buf, sizeof(buf));
    assert_int_equal(m, (int)sizeof(chrome_audio));
    assert_memory_equal(buf, chrome_audio, sizeof(chrome_audio));

    assert_int_equal(tf_rtp_rtx_wrap(orig, olen, 97, 1, 1, rtx, 32), -ENOBUFS);
    assert_int_equal(tf_rtp_rtx_unwrap(plain, 13, 96, 1, back, sizeof(back)), -EPROTO);
    assert_int_equal(tf_rtp_rtx_unwrap(rtx, 33, 96, 1, back, 20), -ENOBUFS);
}

static void test_abs_send_time_and_level(void **state)
{
    assert_int_equal(tf_rtp_abs_send_time_from_us(0), 0);
    assert_int_equal(tf_rtp_abs_send_time_from_us(1000000), 1 << 18);
    assert_int_equal(tf_rtp_abs_send_time_from_us(500000), 1 << 17);
    assert_int_equal(tf_rtp_abs_send_time_from_us(64000000), 0); /* wraps every 64 s */
    assert_int_equal(tf_rtp_abs_send_time_from_us(65000000), 1 << 18);
    assert_int_equal(tf_rtp_abs_send_time_to_us(1 << 18), 1000000);
    for (uint64_t us = 0; us < 64000000; us += 999983) {
        uint64_t back = tf_rtp_abs_send_time_to_us(tf_rtp_abs_send_time_from_us(us));
        assert_true(back + 4 >= us && back <= us + 4); /* 2^-18 s is 3.8 µs */
    }
    uint8_t b[1];
    tf_rtp_put_audio_level(b, false, 127);
    assert_int_equal(b[0], 0x7f);
    tf_rtp_put_audio_level(b, true, 200); /* clamps */
    assert_int_equal(b[0], 0xff);
}

static void test_seq_helpers(void **state)
{
    assert_true(tf_rtp_seq_newer(1, 0));
    assert_false(tf_rtp_seq_newer(0, 1));
    assert_true(tf_rtp_seq_newer(0, 65535));
    assert_false(tf_rtp_seq_newer(65535, 0));
    assert_true(tf_rtp_seq_newer(100, 65000));
    assert_false(tf_rtp_seq_newer(7, 7));
    assert_true(tf_rtp_seq_newer(0x8000, 0)); /* half a cycle: the larger wins */
    assert_false(tf_rtp_seq_newer(0, 0x8000));
    for (uint32_t a = 0; a < 65536; a += 251)
        for (uint32_t d = 1; d < 65536; d += 997)
            assert_true(tf_rtp_seq_newer((uint16_t)a, (uint16_t)(a + d)) !=
                        tf_rtp_seq_newer((uint16_t)(a + d), (uint16_t)a));

    tf_rtp_seq_unwrapper_t u = {0};
    assert_int_equal(tf_rtp_seq_unwrap(&u, 65534), 65534);
    assert_int_equal(tf_rtp_seq_unwrap(&u, 65535), 65535);
    assert_int_equal(tf_rtp_seq_unwrap(&u, 0), 65536);
    assert_int_equal(tf_rtp_seq_unwrap(&u, 65535), 65535); /* late packet from before the wrap */
    assert_int_equal(tf_rtp_seq_unwrap(&u, 1), 65537);
    assert_int_equal(tf_rtp_seq_unwrap(&u, 1), 65537);
    int64_t want = 65537;
    uint16_t s = 1;
    for (int i = 0; i < 300000; i++) { /* several wraps in steps of 1000 */
        s = (uint16_t)(s + 1000);
        want += 1000;
        assert_int_equal(tf_rtp_seq_unwrap(&u, s), want);
    }
    tf_rtp_seq_unwrapper_t v = {0};
    assert_int_equal(tf_rtp_seq_unwrap(&v, 1), 1);
    assert_int_equal(tf_rtp_seq_unwrap(&v, 65535), -1);
}

static void test_demux(void **state)
{
    static const uint8_t rr[8] = {0x80, 201, 0, 1};
    static const uint8_t stun[20] = {0x00, 0x01};
    static const uint8_t dtls[13] = {22, 0xfe, 0xfd};
    uint8_t b[12] = {0x80};
    assert_true(tf_rtp_is_rtcp(rr, sizeof(rr)));
    assert_false(tf_rtp_is_rtp(rr, sizeof(rr)));
    assert_true(tf_rtp_is_rtp(plain, sizeof(plain)));
    assert_false(tf_rtp_is_rtcp(plain, sizeof(plain)));
    assert_false(tf_rtp_is_rtcp(stun, sizeof(stun)));
    assert_false(tf_rtp_is_rtp(stun, sizeof(stun)));
    assert_false(tf_rtp_is_rtcp(dtls, sizeof(dtls)));
    assert_false(tf_rtp_is_rtcp(rr, 3));
    for (int v = 0; v < 256; v++) {
        b[1] = (uint8_t)v;
        assert_int_equal(tf_rtp_is_rtcp(b, sizeof(b)), v >= 192 && v <= 223);
        assert_int_equal(tf_rtp_is_rtp(b, sizeof(b)), !(v >= 192 && v <= 223));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_plain),
        cmocka_unit_test(test_parse_csrc_padding),
        cmocka_unit_test(test_build_from_scratch),
        cmocka_unit_test(test_chrome_extensions),
        cmocka_unit_test(test_build_chrome_like),
        cmocka_unit_test(test_two_byte_form),
        cmocka_unit_test(test_auto_form),
        cmocka_unit_test(test_one_byte_id15_and_padding),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_rtx_round_trip),
        cmocka_unit_test(test_abs_send_time_and_level),
        cmocka_unit_test(test_seq_helpers),
        cmocka_unit_test(test_demux),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
