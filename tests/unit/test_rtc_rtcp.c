/* test_rtc_rtcp.c — server/rtc/rtcp*.c against packets written by hand from the RFC diagrams:
 * byte-exact parse and build of every type, compound packets, NACK, REMB, transport-cc, and
 * truncation at every length. No network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"

/* clang-format off */
/* SR, one report block (RFC 3550 §6.4.1). */
static const uint8_t sr_bytes[] = {
    0x81, 0xc8, 0x00, 0x0c, /* V=2 RC=1 PT=200 length=12 */
    0x11, 0x22, 0x33, 0x44, /* SSRC of sender */
    0xe5, 0x4f, 0x2a, 0x10, /* NTP, most significant word */
    0x80, 0x00, 0x00, 0x00, /* NTP, least significant word (.5 s) */
    0x00, 0x01, 0x5f, 0x90, /* RTP timestamp 90000 */
    0x00, 0x00, 0x03, 0xe8, /* packet count 1000 */
    0x00, 0x0f, 0x42, 0x40, /* octet count 1000000 */
    0xaa, 0xbb, 0xcc, 0xdd, /* SSRC_1 */
    0x40, 0x00, 0x00, 0x05, /* fraction lost 1/4, cumulative 5 */
    0x00, 0x01, 0x00, 0x10, /* extended highest seq: 1 cycle, seq 16 */
    0x00, 0x00, 0x00, 0x20, /* jitter 32 */
    0x2a, 0x10, 0x80, 0x00, /* LSR */
    0x00, 0x01, 0x00, 0x00, /* DLSR 1 s */
};

/* RR with a negative cumulative loss (duplicates), then SDES with a CNAME: Chrome's compound. */
static const uint8_t rr_sdes_bytes[] = {
    0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, /* RR RC=1, SSRC 1 */
    0x00, 0x00, 0x00, 0x02, 0x00, 0xff, 0xff, 0xff, /* SSRC_1 2, fraction 0, lost -1 */
    0x00, 0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x07, /* highest seq, jitter */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* no SR received yet */
    0x81, 0xca, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, /* SDES SC=1, SSRC 1 */
    0x01, 0x10, 'a',  'b',  'c',  'd',  'e',  'f',  /* CNAME, 16 bytes */
    'g',  'h',  'i',  'j',  'k',  'l',  'm',  'n',  'o', 'p', 0x00, 0x00, /* end, pad */
};

/* Chrome-style RR + REMB (a receiver with no report blocks asking for 1.5 Mbit/s). */
static const uint8_t rr_remb_bytes[] = {
    0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* RR RC=0 */
    0x8f, 0xce, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, /* PSFB FMT=15, sender 1 */
    0x00, 0x00, 0x00, 0x00, 'R',  'E',  'M',  'B',  /* media 0, "REMB" */
    0x01, 0x0e, 0xdc, 0x6c,                         /* 1 SSRC, exp 3, mantissa 187500 */
    0x12, 0x34, 0x56, 0x78,                         /* SSRC feedback */
};

static const uint8_t nack_bytes[] = {
    0x81, 0xcd, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, /* RTPFB FMT=1 */
    0x00, 0x00, 0x00, 0x02, 0x00, 0x64, 0x80, 0x05, /* PID 100, BLP bits 1, 3, 16 */
};
/* clang-format on */

static const uint8_t pli_bytes[] = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};

/* clang-format off */
static const uint8_t fir_bytes[] = {
    0x84, 0xce, 0x00, 0x06, 0, 0, 0, 1, 0, 0, 0, 0, /* PSFB FMT=4, media SSRC 0 */
    0x00, 0x00, 0x00, 0x0a, 0x07, 0x00, 0x00, 0x00, /* SSRC 10, seq nr 7 */
    0x00, 0x00, 0x00, 0x0b, 0xff, 0x00, 0x00, 0x00, /* SSRC 11, seq nr 255 */
};

static const uint8_t bye_bytes[] = {
    0x82, 0xcb, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 2, /* BYE SC=2 */
    0x06, 'c',  'l',  'o',  's', 'e', 'd', 0x00,    /* reason "closed", pad */
};

/* Transport-cc with a one-bit vector (the draft's §3.1.4 example) and a run: base 1000, 20
 * statuses: lost, 5 received, 3 lost, 3 received, 2 lost, then a run of 6 received. */
static const uint8_t twcc_bytes[] = {
    0xaf, 0xcd, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, /* RTPFB FMT=15, P=1, 40 bytes */
    0x00, 0x00, 0x00, 0x02, 0x03, 0xe8, 0x00, 0x14, /* media, base 1000, count 20 */
    0x00, 0x01, 0x02, 0x09,                         /* ref time 258 (×64 ms), fb count 9 */
    0x9f, 0x1c, 0x20, 0x06,                         /* one-bit vector; run of 6 small */
    0x04, 0x01, 0x00, 0xff, 0x10, 0x02, 0x03,       /* 14 receive deltas, 1 byte each */
    0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,       /* */
    0x00, 0x02,                                     /* padding (count 2) */
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

/* Parses a compound of at most 16 packets into pkts; returns the count. */
static int parse_all(const uint8_t *b, size_t len, tf_rtcp_packet_t *pkts)
{
    tf_rtcp_iter_t it;
    int n = 0, r = tf_rtcp_iter_init(&it, b, len);
    if (r < 0)
        return r;
    while ((r = tf_rtcp_iter_next(&it, &pkts[n])) == 1)
        assert_true(++n < 16);
    assert_int_equal(r, 0);
    return n;
}

static void assert_one(const uint8_t *b, size_t len, tf_rtcp_packet_t *p, tf_rtcp_type_t type)
{
    tf_rtcp_packet_t pkts[16];
    assert_int_equal(parse_all(b, len, pkts), 1);
    assert_int_equal(pkts[0].type, type);
    *p = pkts[0];
}

static void assert_marshals_to(const tf_rtcp_packet_t *p, const uint8_t *want, size_t len)
{
    uint8_t out[2048];
    assert_int_equal(tf_rtcp_marshal_size(p), len);
    assert_int_equal(tf_rtcp_marshal_to(p, out, sizeof(out)), (int)len);
    assert_memory_equal(out, want, len);
    for (size_t cap = 0; cap < len; cap++)
        assert_int_equal(tf_rtcp_marshal_to(p, out, cap), -ENOBUFS);
}

static void test_sr(void **state)
{
    tf_rtcp_packet_t p;
    assert_one(sr_bytes, sizeof(sr_bytes), &p, TF_RTCP_SR);
    assert_int_equal(p.sr.ssrc, 0x11223344);
    assert_true(p.sr.ntp == 0xe54f2a1080000000ull);
    assert_int_equal(p.sr.rtp_ts, 90000);
    assert_int_equal(p.sr.packet_count, 1000);
    assert_int_equal(p.sr.octet_count, 1000000);
    assert_int_equal(p.sr.rb_count, 1);
    const tf_rtcp_report_block_t *rb = &p.sr.rb[0];
    assert_int_equal(rb->ssrc, 0xaabbccdd);
    assert_int_equal(rb->fraction_lost, 64);
    assert_int_equal(rb->cumulative_lost, 5);
    assert_int_equal(rb->highest_seq, 0x10010);
    assert_int_equal(rb->jitter, 32);
    assert_int_equal(rb->lsr, tf_rtcp_ntp_compact(p.sr.ntp));
    assert_int_equal(rb->dlsr, 65536);
    assert_marshals_to(&p, sr_bytes, sizeof(sr_bytes));

    /* From values, not from a parse. */
    tf_rtcp_packet_t q = {.type = TF_RTCP_SR,
                          .sr = {.ssrc = 0x11223344,
                                 .ntp = 0xe54f2a1080000000ull,
                                 .rtp_ts = 90000,
                                 .packet_count = 1000,
                                 .octet_count = 1000000,
                                 .rb_count = 1,
                                 .rb = {*rb}}};
    assert_marshals_to(&q, sr_bytes, sizeof(sr_bytes));
    q.sr.rb_count = 32;
    assert_int_equal(tf_rtcp_marshal_to(&q, (uint8_t[8]){0}, 8), -EINVAL);
    assert_int_equal(tf_rtcp_marshal_size(&q), 0);
}

static void test_rr_sdes_compound(void **state)
{
    tf_rtcp_packet_t pkts[16];
    assert_int_equal(parse_all(rr_sdes_bytes, sizeof(rr_sdes_bytes), pkts), 2);
    assert_int_equal(pkts[0].type, TF_RTCP_RR);
    assert_int_equal(pkts[0].rr.ssrc, 1);
    assert_int_equal(pkts[0].rr.rb[0].cumulative_lost, -1);
    assert_int_equal(pkts[0].rr.rb[0].jitter, 7);
    assert_int_equal(pkts[1].type, TF_RTCP_SDES);
    assert_int_equal(pkts[1].sdes.count, 1);
    assert_int_equal(pkts[1].sdes.chunk[0].ssrc, 1);
    assert_int_equal(pkts[1].sdes.chunk[0].cname_len, 16);
    assert_memory_equal(pkts[1].sdes.chunk[0].cname, "abcdefghijklmnop", 16);

    uint8_t out[128];
    assert_int_equal(tf_rtcp_compound_marshal_to(pkts, 2, out, sizeof(out)),
                     (int)sizeof(rr_sdes_bytes));
    assert_memory_equal(out, rr_sdes_bytes, sizeof(rr_sdes_bytes));
    assert_int_equal(tf_rtcp_compound_marshal_to(pkts, 2, out, sizeof(rr_sdes_bytes) - 1),
                     -ENOBUFS);

    /* Cumulative loss saturates at 24 bits. */
    pkts[0].rr.rb[0].cumulative_lost = 0x1000000;
    assert_int_equal(tf_rtcp_marshal_to(&pkts[0], out, sizeof(out)), 32);
    assert_memory_equal(out + 13, "\x7f\xff\xff", 3);
    pkts[0].rr.rb[0].cumulative_lost = -0x1000000;
    assert_int_equal(tf_rtcp_marshal_to(&pkts[0], out, sizeof(out)), 32);
    assert_memory_equal(out + 13, "\x80\x00\x00", 3);
}

static void test_sr_sdes_build(void **state)
{
    /* The sender's usual compound: SR + SDES(CNAME), built from values. */
    tf_rtcp_packet_t pkts[2] = {
        {.type = TF_RTCP_SR, .sr = {.ssrc = 9, .ntp = 1ull << 32, .rtp_ts = 48000}},
        {.type = TF_RTCP_SDES, .sdes = {.count = 1}},
    };
    pkts[1].sdes.chunk[0].ssrc = 9;
    pkts[1].sdes.chunk[0].cname = "tafel";
    pkts[1].sdes.chunk[0].cname_len = 5;
    uint8_t out[128];
    int n = tf_rtcp_compound_marshal_to(pkts, 2, out, sizeof(out));
    assert_int_equal(n, 28 + 4 + 12);
    /* clang-format off */
    static const uint8_t sdes[] = {0x81, 0xca, 0x00, 0x03, 0, 0, 0, 9,
                                   0x01, 0x05, 't',  'a',  'f', 'e', 'l', 0x00};
    /* clang-format on */
    assert_memory_equal(out + 28, sdes, sizeof(sdes));
    tf_rtcp_packet_t back[16];
    assert_int_equal(parse_all(out, (size_t)n, back), 2);
    assert_int_equal(back[0].sr.rtp_ts, 48000);
    assert_memory_equal(back[1].sdes.chunk[0].cname, "tafel", 5);
}

static void test_sdes_items(void **state)
{
    /* Two chunks: the first has a NOTE before its CNAME, the second no items at all. */
    /* clang-format off */
    static const uint8_t b[] = {
        0x82, 0xca, 0x00, 0x05, 0, 0, 0, 1, 0x07, 0x02, 'h', 'i', 0x01, 0x01, 'x', 0x00,
        0, 0, 0, 2, 0x00, 0x00, 0x00, 0x00,
    };
    /* clang-format on */
    tf_rtcp_packet_t p;
    assert_one(b, sizeof(b), &p, TF_RTCP_SDES);
    assert_int_equal(p.sdes.count, 2);
    assert_int_equal(p.sdes.chunk[0].cname_len, 1);
    assert_int_equal(p.sdes.chunk[0].cname[0], 'x');
    assert_null(p.sdes.chunk[1].cname);
    assert_int_equal(p.sdes.chunk[1].ssrc, 2);

    uint8_t bad[sizeof(b)];
    memcpy(bad, b, sizeof(b));
    bad[9] = 0x30; /* NOTE runs past the packet */
    assert_int_equal(parse_all(bad, sizeof(bad), &p), -EPROTO);
    memcpy(bad, b, sizeof(b));
    bad[0] = 0x83; /* three chunks announced, two present */
    assert_int_equal(parse_all(bad, sizeof(bad), &p), -EPROTO);

    /* An extra null word after the last chunk is tolerated; anything else is not. */
    uint8_t longer[sizeof(b) + 4] = {0};
    memcpy(longer, b, sizeof(b));
    longer[3] = 6;
    assert_one(longer, sizeof(longer), &p, TF_RTCP_SDES);
    assert_int_equal(p.sdes.count, 2);
    longer[sizeof(longer) - 2] = 1;
    assert_int_equal(parse_all(longer, sizeof(longer), &p), -EPROTO);
}

static void test_bye(void **state)
{
    tf_rtcp_packet_t p;
    assert_one(bye_bytes, sizeof(bye_bytes), &p, TF_RTCP_BYE);
    assert_int_equal(p.bye.count, 2);
    assert_int_equal(p.bye.ssrc[1], 2);
    assert_int_equal(p.bye.reason_len, 6);
    assert_memory_equal(p.bye.reason, "closed", 6);
    assert_marshals_to(&p, bye_bytes, sizeof(bye_bytes));
    p.bye.reason = NULL;
    p.bye.reason_len = 0;
    assert_marshals_to(&p, (const uint8_t *)"\x82\xcb\x00\x02\0\0\0\1\0\0\0\2", 12);
}

static void test_nack(void **state)
{
    tf_rtcp_packet_t p;
    uint16_t lost[40];
    assert_one(nack_bytes, sizeof(nack_bytes), &p, TF_RTCP_NACK);
    assert_int_equal(p.nack.sender_ssrc, 1);
    assert_int_equal(p.nack.media_ssrc, 2);
    assert_int_equal(p.nack.pair_count, 1);
    assert_int_equal(tf_rtcp_nack_lost(&p.nack, lost, 40), 4);
    assert_int_equal(lost[0], 100);
    assert_int_equal(lost[1], 101);
    assert_int_equal(lost[2], 103);
    assert_int_equal(lost[3], 116);
    assert_int_equal(tf_rtcp_nack_lost(&p.nack, lost, 3), -ENOBUFS);
    assert_marshals_to(&p, nack_bytes, sizeof(nack_bytes));

    uint8_t out[256];
    static const uint16_t list[] = {100, 101, 103, 116};
    assert_int_equal(tf_rtcp_nack_build_size(list, 4), sizeof(nack_bytes));
    assert_int_equal(tf_rtcp_nack_build_to(1, 2, list, 4, out, sizeof(out)), sizeof(nack_bytes));
    assert_memory_equal(out, nack_bytes, sizeof(nack_bytes));
    assert_int_equal(tf_rtcp_nack_build_to(1, 2, list, 4, out, 15), -ENOBUFS);
    assert_int_equal(tf_rtcp_nack_build_to(1, 2, list, 0, out, sizeof(out)), -EINVAL);

    /* Across the wrap and over several pairs; every bit of a full mask. */
    uint16_t many[40];
    size_t n = 0;
    for (int i = 0; i < 17; i++)
        many[n++] = (uint16_t)(65530 + i); /* one full pair: PID 65530, BLP 0xffff */
    many[n++] = 20;
    many[n++] = 36; /* 16 after 20: same pair, top bit */
    many[n++] = 37; /* 17 after: a new pair */
    int w = tf_rtcp_nack_build_to(7, 8, many, n, out, sizeof(out));
    assert_int_equal(w, 12 + 3 * 4);
    assert_memory_equal(out + 12, "\xff\xfa\xff\xff\x00\x14\x80\x00\x00\x25\x00\x00", 12);
    assert_one(out, (size_t)w, &p, TF_RTCP_NACK);
    assert_int_equal(tf_rtcp_nack_lost(&p.nack, lost, 40), (int)n);
    assert_memory_equal(lost, many, n * sizeof(uint16_t));

    static const uint8_t empty[] = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_int_equal(parse_all(empty, sizeof(empty), &p), -EPROTO); /* no FCI */
}

static void test_pli_fir(void **state)
{
    tf_rtcp_packet_t p;
    assert_one(pli_bytes, sizeof(pli_bytes), &p, TF_RTCP_PLI);
    assert_int_equal(p.pli.sender_ssrc, 1);
    assert_int_equal(p.pli.media_ssrc, 2);
    assert_marshals_to(&p, pli_bytes, sizeof(pli_bytes));

    assert_one(fir_bytes, sizeof(fir_bytes), &p, TF_RTCP_FIR);
    assert_int_equal(p.fir.sender_ssrc, 1);
    assert_int_equal(p.fir.count, 2);
    assert_int_equal(tf_rtcp_fir_entry(&p.fir, 0).ssrc, 10);
    assert_int_equal(tf_rtcp_fir_entry(&p.fir, 0).seq_nr, 7);
    assert_int_equal(tf_rtcp_fir_entry(&p.fir, 1).ssrc, 11);
    assert_int_equal(tf_rtcp_fir_entry(&p.fir, 1).seq_nr, 255);
    assert_marshals_to(&p, fir_bytes, sizeof(fir_bytes));

    static const tf_rtcp_fir_entry_t e[] = {{10, 7}, {11, 255}};
    uint8_t out[64];
    assert_int_equal(tf_rtcp_fir_build_to(1, e, 2, out, sizeof(out)), sizeof(fir_bytes));
    assert_memory_equal(out, fir_bytes, sizeof(fir_bytes));
    assert_int_equal(tf_rtcp_fir_build_to(1, e, 2, out, 27), -ENOBUFS);
    assert_int_equal(tf_rtcp_fir_build_to(1, e, 0, out, sizeof(out)), -EINVAL);
}

static void test_remb(void **state)
{
    tf_rtcp_packet_t pkts[16];
    assert_int_equal(parse_all(rr_remb_bytes, sizeof(rr_remb_bytes), pkts), 2);
    assert_int_equal(pkts[0].type, TF_RTCP_RR);
    assert_int_equal(pkts[0].rr.rb_count, 0);
    assert_int_equal(pkts[1].type, TF_RTCP_REMB);
    assert_int_equal(pkts[1].remb.sender_ssrc, 1);
    assert_true(pkts[1].remb.bitrate_bps == 1500000);
    assert_int_equal(pkts[1].remb.ssrc_count, 1);
    assert_int_equal(pkts[1].remb.ssrc[0], 0x12345678);
    uint8_t out[64];
    assert_int_equal(tf_rtcp_compound_marshal_to(pkts, 2, out, sizeof(out)),
                     (int)sizeof(rr_remb_bytes));
    assert_memory_equal(out, rr_remb_bytes, sizeof(rr_remb_bytes));

    /* 150 kbit/s and 1.5 Mbit/s are exact; 50 Mbit/s loses low bits to the 18-bit mantissa. */
    static const uint64_t rates[] = {0,      1,      150000,    1500000,    50000000,
                                     262143, 262144, 123456789, 1ull << 40, UINT64_MAX};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        tf_rtcp_packet_t r = {
            .type = TF_RTCP_REMB,
            .remb = {.sender_ssrc = 5, .bitrate_bps = rates[i], .ssrc_count = 2, .ssrc = {7, 8}}};
        tf_rtcp_packet_t q;
        int n = tf_rtcp_marshal_to(&r, out, sizeof(out));
        assert_int_equal(n, 4 + 16 + 8);
        assert_one(out, (size_t)n, &q, TF_RTCP_REMB);
        uint64_t got = q.remb.bitrate_bps;
        assert_true(got <= rates[i]);
        assert_true(rates[i] - got <= rates[i] >> 17); /* within one mantissa step */
        assert_int_equal(q.remb.ssrc[1], 8);
    }
    tf_rtcp_packet_t r = {.type = TF_RTCP_REMB, .remb = {.bitrate_bps = 50000000}};
    tf_rtcp_packet_t q;
    int n = tf_rtcp_marshal_to(&r, out, sizeof(out));
    assert_one(out, (size_t)n, &q, TF_RTCP_REMB);
    assert_true(q.remb.bitrate_bps == 49999872); /* 195312 << 8 */
    assert_int_equal(out[17], 8 << 2 | 195312 >> 16);

    /* An exponent that overflows 64 bits, and a wrong SSRC count, are malformed. */
    uint8_t bad[sizeof(rr_remb_bytes)];
    memcpy(bad, rr_remb_bytes, sizeof(bad));
    bad[25] = 0xff; /* exponent 63 with a non-zero mantissa */
    assert_int_equal(parse_all(bad, sizeof(bad), pkts), -EPROTO);
    memcpy(bad, rr_remb_bytes, sizeof(bad));
    bad[24] = 2;
    assert_int_equal(parse_all(bad, sizeof(bad), pkts), -EPROTO);
    memcpy(bad, rr_remb_bytes, sizeof(bad));
    bad[20] = 'X'; /* other application layer feedback: kept as bytes */
    assert_int_equal(parse_all(bad, sizeof(bad), pkts), 2);
    assert_int_equal(pkts[1].type, TF_RTCP_OTHER);
    assert_int_equal(pkts[1].other.pt, 206);
    assert_int_equal(pkts[1].other.count, 15);
    assert_int_equal(pkts[1].other.len, 20);
}

static void test_twcc_parse_hand(void **state)
{
    tf_rtcp_packet_t p;
    tf_rtcp_twcc_status_t st[32];
    assert_one(twcc_bytes, sizeof(twcc_bytes), &p, TF_RTCP_TWCC);
    assert_int_equal(p.twcc.sender_ssrc, 1);
    assert_int_equal(p.twcc.media_ssrc, 2);
    assert_int_equal(p.twcc.base_seq, 1000);
    assert_int_equal(p.twcc.status_count, 20);
    assert_int_equal(p.twcc.ref_time, 258);
    assert_int_equal(p.twcc.fb_count, 9);
    assert_int_equal(tf_rtcp_twcc_expand(&p.twcc, st, 19), -ENOBUFS);
    assert_int_equal(tf_rtcp_twcc_expand(&p.twcc, st, 32), 20);
    static const char rx[] = "01111100011100111111";
    static const int32_t ticks[] = {4, 1, 0, 255, 16, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int d = 0;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(st[i].seq, 1000 + i);
        assert_int_equal(st[i].received, rx[i] == '1');
        assert_int_equal(st[i].delta_us, rx[i] == '1' ? ticks[d++] * 250 : 0);
    }
    /* Re-marshalled as it came; rebuilt from the list, the encoder picks its own chunks. */
    assert_marshals_to(&p, twcc_bytes, sizeof(twcc_bytes));
    uint8_t out[128];
    int n = tf_rtcp_twcc_build_to(&p.twcc, st, 20, out, sizeof(out));
    assert_int_equal(n, (int)tf_rtcp_twcc_build_size(st, 20));
    tf_rtcp_packet_t q;
    tf_rtcp_twcc_status_t st2[32];
    assert_one(out, (size_t)n, &q, TF_RTCP_TWCC);
    assert_int_equal(q.twcc.ref_time, 258);
    assert_int_equal(q.twcc.fb_count, 9);
    assert_int_equal(tf_rtcp_twcc_expand(&q.twcc, st2, 32), 20);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(st2[i].seq, st[i].seq);
        assert_int_equal(st2[i].received, st[i].received);
        assert_int_equal(st2[i].delta_us, st[i].delta_us);
    }
}

static void test_twcc_build_exact(void **state)
{
    /* 2 small, 10 lost, large -1 ms, large +100 ms, small 63.75 ms. The encoder emits a two-bit
     * vector (7), another (7: five lost, two large) and a run of 1 small. */
    tf_rtcp_twcc_status_t st[15] = {0};
    for (int i = 0; i < 15; i++)
        st[i].seq = (uint16_t)(100 + i);
    st[0] = (tf_rtcp_twcc_status_t){100, true, 1000};
    st[1] = (tf_rtcp_twcc_status_t){101, true, 0};
    st[12] = (tf_rtcp_twcc_status_t){112, true, -1000};
    st[13] = (tf_rtcp_twcc_status_t){113, true, 100000};
    st[14] = (tf_rtcp_twcc_status_t){114, true, 63750};
    /* clang-format off */
    static const uint8_t want[] = {
        0xaf, 0xcd, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
        0x00, 0x64, 0x00, 0x0f, 0x00, 0x01, 0x02, 0x07, /* base 100, 15, ref 258, fb 7 */
        0xd4, 0x00, 0xc0, 0x0a, 0x20, 0x01,             /* chunks */
        0x04, 0x00, 0xff, 0xfc, 0x01, 0x90, 0xff,       /* deltas */
        0x00, 0x00, 0x03,                               /* padding */
    };
    /* clang-format on */
    tf_rtcp_twcc_t hdr = {
        .sender_ssrc = 0x01020304, .media_ssrc = 0x0a0b0c0d, .ref_time = 258, .fb_count = 7};
    uint8_t out[64];
    assert_int_equal(tf_rtcp_twcc_build_size(st, 15), sizeof(want));
    assert_int_equal(tf_rtcp_twcc_build_to(&hdr, st, 15, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    assert_int_equal(tf_rtcp_twcc_build_to(&hdr, st, 15, out, sizeof(want) - 1), -ENOBUFS);

    st[13].delta_us = 32768 * 250; /* one tick past int16 */
    assert_int_equal(tf_rtcp_twcc_build_to(&hdr, st, 15, out, sizeof(out)), -ERANGE);
    assert_int_equal(tf_rtcp_twcc_build_size(st, 15), 0);
    st[13].delta_us = 100000;
    st[5].seq = 9; /* not consecutive */
    assert_int_equal(tf_rtcp_twcc_build_to(&hdr, st, 15, out, sizeof(out)), -EINVAL);
    assert_int_equal(tf_rtcp_twcc_build_to(&hdr, st, 0, out, sizeof(out)), -EINVAL);
}

/* Returns the number of chunks of each kind: [run, one-bit, two-bit]. */
static void count_chunks(const tf_rtcp_twcc_t *t, int kinds[3])
{
    size_t left = t->status_count, pos = 0;
    kinds[0] = kinds[1] = kinds[2] = 0;
    while (left) {
        uint16_t c = (uint16_t)(t->body[pos] << 8 | t->body[pos + 1]);
        pos += 2;
        size_t n = !(c & 0x8000) ? (c & 0x1fffu) : (c & 0x4000) ? 7u : 14u;
        kinds[!(c & 0x8000) ? 0 : (c & 0x4000) ? 2 : 1]++;
        left -= n < left ? n : left;
    }
}

static void test_twcc_round_trip_mix(void **state)
{
    enum { N = 2000 };
    static tf_rtcp_twcc_status_t st[N], back[N];
    static uint8_t out[8192];
    uint32_t rng = 12345;
    for (int i = 0; i < N; i++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 8;
        st[i].seq = (uint16_t)(65000 + i); /* wraps through 0 */
        if (i >= 100 && i < 400) {
            st[i].received = false; /* a long outage: runs of lost */
        } else if (i >= 400 && i < 700) {
            st[i].received = true; /* steady small deltas: runs */
            st[i].delta_us = 5000;
        } else if (i >= 700 && i < 1000) {
            st[i].received = r & 1; /* lost and small only: one-bit vectors */
            st[i].delta_us = st[i].received ? (int32_t)(r % 256) * 250 : 0;
        } else if (i % 97 == 0) {
            st[i].received = true;
            st[i].delta_us = (r & 1 ? 1 : -1) * 32767 * 250; /* the int16 extremes */
            if (r & 2)
                st[i].delta_us = -32768 * 250;
        } else {
            st[i].received = r % 3 != 0;
            int32_t ticks = (int32_t)(r % 700) - 100; /* small, large and negative */
            st[i].delta_us = st[i].received ? ticks * 250 : 0;
        }
    }
    tf_rtcp_twcc_t hdr = {.sender_ssrc = 1, .media_ssrc = 2, .ref_time = 0xffffff};
    int n = tf_rtcp_twcc_build_to(&hdr, st, N, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal(n % 4, 0);
    tf_rtcp_packet_t p;
    assert_one(out, (size_t)n, &p, TF_RTCP_TWCC);
    assert_int_equal(p.twcc.base_seq, 65000);
    assert_int_equal(p.twcc.ref_time, 0xffffff);
    int kinds[3];
    count_chunks(&p.twcc, kinds);
    assert_true(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0);
    assert_int_equal(tf_rtcp_twcc_expand(&p.twcc, back, N), N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(back[i].seq, st[i].seq);
        assert_int_equal(back[i].received, st[i].received);
        assert_int_equal(back[i].delta_us, st[i].delta_us);
    }
}

static void test_twcc_rounding(void **state)
{
    /* 100 µs apart: deltas round to 250 µs steps while the running sum stays within 125 µs. */
    tf_rtcp_twcc_status_t st[40], back[40];
    for (int i = 0; i < 40; i++)
        st[i] = (tf_rtcp_twcc_status_t){(uint16_t)i, true, 100};
    uint8_t out[256];
    tf_rtcp_twcc_t hdr = {0};
    int n = tf_rtcp_twcc_build_to(&hdr, st, 40, out, sizeof(out));
    tf_rtcp_packet_t p;
    assert_one(out, (size_t)n, &p, TF_RTCP_TWCC);
    assert_int_equal(tf_rtcp_twcc_expand(&p.twcc, back, 40), 40);
    int64_t sum = 0;
    for (int i = 0; i < 40; i++) {
        sum += back[i].delta_us;
        int64_t want = 100 * (i + 1);
        assert_true(sum - want <= 125 && want - sum <= 125);
    }
    assert_int_equal(sum, 4000);
}

static void test_twcc_malformed(void **state)
{
    uint8_t b[sizeof(twcc_bytes)];
    tf_rtcp_packet_t p[16];

    memcpy(b, twcc_bytes, sizeof(b));
    b[14] = b[15] = 0; /* status count 0 */
    assert_int_equal(parse_all(b, sizeof(b), p), -EPROTO);

    memcpy(b, twcc_bytes, sizeof(b));
    b[22] = 0x60; /* run of reserved symbol 3 */
    assert_int_equal(parse_all(b, sizeof(b), p), -EPROTO);

    memcpy(b, twcc_bytes, sizeof(b));
    b[15] = 40; /* 40 statuses: a delta byte is read as a third chunk, deltas run out */
    assert_int_equal(parse_all(b, sizeof(b), p), -EPROTO);

    memcpy(b, twcc_bytes, sizeof(b));
    b[22] = 0x40; /* run of 6 large deltas: 20 delta bytes, only 14 left */
    assert_int_equal(parse_all(b, sizeof(b), p), -EPROTO);

    /* Zero padding after the deltas instead of the P bit is accepted. */
    memcpy(b, twcc_bytes, sizeof(b));
    b[0] = 0x8f;
    b[sizeof(b) - 1] = 0;
    assert_int_equal(parse_all(b, sizeof(b), p), 1);
    assert_int_equal(p[0].type, TF_RTCP_TWCC);
}

static void test_framing_errors(void **state)
{
    tf_rtcp_packet_t p[16];
    uint8_t b[sizeof(rr_sdes_bytes) + 4] = {0};
    tf_rtcp_iter_t it;

    assert_int_equal(tf_rtcp_iter_init(&it, b, 0), -EPROTO);
    assert_int_equal(tf_rtcp_iter_next(&it, p), 0);

    memcpy(b, rr_sdes_bytes, sizeof(rr_sdes_bytes));
    b[32] = 0x41; /* version 1 in the second packet */
    assert_int_equal(parse_all(b, sizeof(rr_sdes_bytes), p), -EPROTO);

    memcpy(b, rr_sdes_bytes, sizeof(rr_sdes_bytes));
    b[35] = 7; /* second packet claims one word more than there is */
    assert_int_equal(parse_all(b, sizeof(rr_sdes_bytes), p), -EPROTO);

    memcpy(b, rr_sdes_bytes, sizeof(rr_sdes_bytes));
    b[3] = 5; /* RR shorter than its report block: */
    assert_int_equal(parse_all(b, sizeof(rr_sdes_bytes), p), -EPROTO);

    memcpy(b, rr_sdes_bytes, sizeof(rr_sdes_bytes));
    memset(b + sizeof(rr_sdes_bytes), 0, 2); /* two stray bytes after the compound */
    assert_int_equal(parse_all(b, sizeof(rr_sdes_bytes) + 2, p), -EPROTO);

    memcpy(b, pli_bytes, sizeof(pli_bytes));
    b[0] |= 0x20;                                                  /* P set, count 2 */
    assert_int_equal(parse_all(b, sizeof(pli_bytes), p), -EPROTO); /* PLI body now 6 bytes */
    b[11] = 0;
    assert_int_equal(parse_all(b, sizeof(pli_bytes), p), -EPROTO); /* count 0 */
    b[11] = 9;
    assert_int_equal(parse_all(b, sizeof(pli_bytes), p), -EPROTO); /* count > body */

    /* Unknown types (APP, XR) are kept as bytes and re-marshal exactly. */
    static const uint8_t app[] = {0x85, 0xcc, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};
    assert_int_equal(parse_all(app, sizeof(app), p), 1);
    assert_int_equal(p[0].type, TF_RTCP_OTHER);
    assert_int_equal(p[0].other.pt, 204);
    assert_int_equal(p[0].other.count, 5);
    assert_marshals_to(&p[0], app, sizeof(app));
}

/* Every prefix of a compound holding every type is valid only at a packet boundary. */
static void test_truncated_every_length(void **state)
{
    static const struct {
        const uint8_t *b;
        size_t len;
    } parts[] = {
        {sr_bytes, sizeof(sr_bytes)},           {rr_sdes_bytes, sizeof(rr_sdes_bytes)},
        {bye_bytes, sizeof(bye_bytes)},         {nack_bytes, sizeof(nack_bytes)},
        {pli_bytes, sizeof(pli_bytes)},         {fir_bytes, sizeof(fir_bytes)},
        {rr_remb_bytes, sizeof(rr_remb_bytes)}, {twcc_bytes, sizeof(twcc_bytes)},
    };
    uint8_t all[1024];
    bool boundary[1024] = {false};
    size_t len = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        memcpy(all + len, parts[i].b, parts[i].len);
        len += parts[i].len;
    }
    for (size_t off = 0; off < len; off += 4 * ((size_t)(all[off + 2] << 8 | all[off + 3]) + 1))
        boundary[off] = true;
    tf_rtcp_packet_t p[16];
    assert_int_equal(parse_all(all, len, p), 10);
    for (size_t n = 0; n < len; n++) {
        uint8_t *b = dup_exact(all, n); /* exact size: ASan catches any overread */
        tf_rtcp_iter_t it;
        int r = tf_rtcp_iter_init(&it, b, n);
        assert_int_equal(r, n > 0 && boundary[n] ? 0 : -EPROTO);
        free(b);
    }
}

/* Each packet with its length field shortened by whole words (P cleared) must be refused. */
static void test_short_length_fields(void **state)
{
    static const struct {
        const uint8_t *b;
        size_t len;
    } one[] = {
        {sr_bytes, sizeof(sr_bytes)},   {rr_sdes_bytes, 32},
        {rr_sdes_bytes + 32, 28},       {nack_bytes, sizeof(nack_bytes)},
        {pli_bytes, sizeof(pli_bytes)}, {fir_bytes, 20}, /* FIR with one entry */
        {rr_remb_bytes + 8, 24},        {twcc_bytes, sizeof(twcc_bytes)},
    };
    for (size_t k = 0; k < sizeof(one) / sizeof(one[0]); k++) {
        for (size_t words = 0; 4 * (words + 1) < one[k].len; words++) {
            size_t n = 4 * (words + 1);
            uint8_t *b = dup_exact(one[k].b, n);
            b[0] &= (uint8_t)~0x20;
            b[2] = (uint8_t)(words >> 8);
            b[3] = (uint8_t)words;
            tf_rtcp_iter_t it;
            int r = tf_rtcp_iter_init(&it, b, n);
            /* PSFB FMT 15 without the "REMB" identifier is other application feedback. */
            int want = k == 6 && n == 12 ? 0 : -EPROTO;
            if (r != want)
                fail_msg("packet %zu shortened to %zu bytes: %d", k, n, r);
            free(b);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sr),
        cmocka_unit_test(test_rr_sdes_compound),
        cmocka_unit_test(test_sr_sdes_build),
        cmocka_unit_test(test_sdes_items),
        cmocka_unit_test(test_bye),
        cmocka_unit_test(test_nack),
        cmocka_unit_test(test_pli_fir),
        cmocka_unit_test(test_remb),
        cmocka_unit_test(test_twcc_parse_hand),
        cmocka_unit_test(test_twcc_build_exact),
        cmocka_unit_test(test_twcc_round_trip_mix),
        cmocka_unit_test(test_twcc_rounding),
        cmocka_unit_test(test_twcc_malformed),
        cmocka_unit_test(test_framing_errors),
        cmocka_unit_test(test_truncated_every_length),
        cmocka_unit_test(test_short_length_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
