/* rtcp_fuzzer.c — libFuzzer target for server/rtc/rtcp*.c: every packet of a compound that
 * validates must re-marshal to one that parses the same, and the NACK, FIR and transport-cc lists
 * must survive decode → build → decode. Not a crash-only fuzzer; it aborts on a broken trip. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

static bool same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || !memcmp(a, b, n);
}

static bool same_blocks(const tf_rtcp_report_block_t *a, const tf_rtcp_report_block_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i].ssrc != b[i].ssrc || a[i].fraction_lost != b[i].fraction_lost ||
            a[i].cumulative_lost != b[i].cumulative_lost || a[i].highest_seq != b[i].highest_seq ||
            a[i].jitter != b[i].jitter || a[i].lsr != b[i].lsr || a[i].dlsr != b[i].dlsr)
            return false;
    return true;
}

static void check_same(const tf_rtcp_packet_t *a, const tf_rtcp_packet_t *b)
{
    CHECK(a->type == b->type);
    switch (a->type) {
    case TF_RTCP_SR:
        CHECK(a->sr.ssrc == b->sr.ssrc && a->sr.ntp == b->sr.ntp && a->sr.rtp_ts == b->sr.rtp_ts);
        CHECK(a->sr.packet_count == b->sr.packet_count);
        CHECK(a->sr.octet_count == b->sr.octet_count && a->sr.rb_count == b->sr.rb_count);
        CHECK(same_blocks(a->sr.rb, b->sr.rb, a->sr.rb_count));
        break;
    case TF_RTCP_RR:
        CHECK(a->rr.ssrc == b->rr.ssrc && a->rr.rb_count == b->rr.rb_count);
        CHECK(same_blocks(a->rr.rb, b->rr.rb, a->rr.rb_count));
        break;
    case TF_RTCP_SDES:
        CHECK(a->sdes.count == b->sdes.count);
        for (int i = 0; i < a->sdes.count; i++) {
            CHECK(a->sdes.chunk[i].ssrc == b->sdes.chunk[i].ssrc);
            CHECK(!a->sdes.chunk[i].cname == !b->sdes.chunk[i].cname);
            CHECK(a->sdes.chunk[i].cname_len == b->sdes.chunk[i].cname_len);
            CHECK(same_bytes(a->sdes.chunk[i].cname, b->sdes.chunk[i].cname,
                             a->sdes.chunk[i].cname_len));
        }
        break;
    case TF_RTCP_BYE:
        CHECK(a->bye.count == b->bye.count);
        CHECK(same_bytes(a->bye.ssrc, b->bye.ssrc, sizeof(uint32_t) * a->bye.count));
        CHECK(!a->bye.reason == !b->bye.reason && a->bye.reason_len == b->bye.reason_len);
        CHECK(same_bytes(a->bye.reason, b->bye.reason, a->bye.reason_len));
        break;
    case TF_RTCP_NACK:
        CHECK(a->nack.sender_ssrc == b->nack.sender_ssrc);
        CHECK(a->nack.media_ssrc == b->nack.media_ssrc);
        CHECK(a->nack.pair_count == b->nack.pair_count);
        CHECK(same_bytes(a->nack.fci, b->nack.fci, 4 * a->nack.pair_count));
        break;
    case TF_RTCP_PLI:
        CHECK(a->pli.sender_ssrc == b->pli.sender_ssrc);
        CHECK(a->pli.media_ssrc == b->pli.media_ssrc);
        break;
    case TF_RTCP_FIR:
        CHECK(a->fir.sender_ssrc == b->fir.sender_ssrc && a->fir.media_ssrc == b->fir.media_ssrc);
        CHECK(a->fir.count == b->fir.count);
        CHECK(same_bytes(a->fir.fci, b->fir.fci, 8 * a->fir.count));
        break;
    case TF_RTCP_REMB:
        CHECK(a->remb.sender_ssrc == b->remb.sender_ssrc);
        CHECK(a->remb.bitrate_bps == b->remb.bitrate_bps);
        CHECK(a->remb.ssrc_count == b->remb.ssrc_count);
        CHECK(same_bytes(a->remb.ssrc, b->remb.ssrc, sizeof(uint32_t) * a->remb.ssrc_count));
        break;
    case TF_RTCP_TWCC:
        CHECK(a->twcc.sender_ssrc == b->twcc.sender_ssrc);
        CHECK(a->twcc.media_ssrc == b->twcc.media_ssrc);
        CHECK(a->twcc.base_seq == b->twcc.base_seq);
        CHECK(a->twcc.status_count == b->twcc.status_count);
        CHECK(a->twcc.ref_time == b->twcc.ref_time && a->twcc.fb_count == b->twcc.fb_count);
        CHECK(a->twcc.body_len == b->twcc.body_len);
        CHECK(same_bytes(a->twcc.body, b->twcc.body, a->twcc.body_len));
        break;
    case TF_RTCP_OTHER:
        CHECK(a->other.pt == b->other.pt && a->other.count == b->other.count);
        CHECK(a->other.len == b->other.len);
        CHECK(same_bytes(a->other.body, b->other.body, a->other.len));
        break;
    }
}

/* Parses `buf` as exactly one packet. */
static void parse_single(const uint8_t *buf, size_t len, tf_rtcp_packet_t *out)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t extra;
    CHECK(tf_rtcp_iter_init(&it, buf, len) == 0);
    CHECK(tf_rtcp_iter_next(&it, out) == 1);
    CHECK(tf_rtcp_iter_next(&it, &extra) == 0);
}

/* The lost set survives NACK decode → build → decode (order and duplicates may change). */
static void check_nack_list(const tf_rtcp_nack_t *n)
{
    size_t cap = 17 * n->pair_count;
    uint16_t *lost = malloc(sizeof(uint16_t) * cap), *again = malloc(sizeof(uint16_t) * cap);
    uint8_t *seen = calloc(2, 65536);
    CHECK(lost && again && seen);
    int k = tf_rtcp_nack_lost(n, lost, cap);
    CHECK(k >= (int)n->pair_count);
    CHECK(tf_rtcp_nack_lost(n, lost, (size_t)k - 1) == -ENOBUFS);
    size_t size = tf_rtcp_nack_build_size(lost, (size_t)k);
    if (size) {
        uint8_t *out = malloc(size);
        CHECK(out);
        CHECK(tf_rtcp_nack_build_to(n->sender_ssrc, n->media_ssrc, lost, (size_t)k, out, size) ==
              (int)size);
        tf_rtcp_packet_t q;
        parse_single(out, size, &q);
        CHECK(q.type == TF_RTCP_NACK && q.nack.pair_count <= (size_t)k);
        int m = tf_rtcp_nack_lost(&q.nack, again, cap);
        CHECK(m > 0);
        for (int i = 0; i < k; i++)
            seen[lost[i]] = 1;
        for (int i = 0; i < m; i++) {
            CHECK(seen[again[i]]);
            seen[65536 + again[i]] = 1;
        }
        for (int i = 0; i < k; i++)
            CHECK(seen[65536 + lost[i]]);
        free(out);
    }
    free(lost);
    free(again);
    free(seen);
}

static void check_fir_list(const tf_rtcp_fir_t *f)
{
    tf_rtcp_fir_entry_t *e = malloc(sizeof(*e) * f->count);
    size_t size = 12 + 8 * f->count;
    uint8_t *out = malloc(size);
    CHECK(e && out);
    for (size_t i = 0; i < f->count; i++)
        e[i] = tf_rtcp_fir_entry(f, i);
    CHECK(tf_rtcp_fir_build_to(f->sender_ssrc, e, f->count, out, size) == (int)size);
    tf_rtcp_packet_t q;
    parse_single(out, size, &q);
    CHECK(q.type == TF_RTCP_FIR && q.fir.count == f->count && q.fir.media_ssrc == 0);
    for (size_t i = 0; i < f->count; i++) {
        tf_rtcp_fir_entry_t g = tf_rtcp_fir_entry(&q.fir, i);
        CHECK(g.ssrc == e[i].ssrc && g.seq_nr == e[i].seq_nr);
    }
    free(e);
    free(out);
}

/* Transport-cc statuses survive expand → build → expand exactly (deltas are whole ticks). */
static void check_twcc_list(const tf_rtcp_twcc_t *t)
{
    size_t n = t->status_count;
    tf_rtcp_twcc_status_t *st = malloc(sizeof(*st) * n), *again = malloc(sizeof(*st) * n);
    CHECK(st && again);
    CHECK(tf_rtcp_twcc_expand(t, st, n) == (int)n);
    CHECK(tf_rtcp_twcc_expand(t, st, n - 1) == -ENOBUFS);
    size_t size = tf_rtcp_twcc_build_size(st, n);
    CHECK(size > 0 && size % 4 == 0);
    uint8_t *out = malloc(size);
    CHECK(out);
    CHECK(tf_rtcp_twcc_build_to(t, st, n, out, size) == (int)size);
    tf_rtcp_packet_t q;
    parse_single(out, size, &q);
    CHECK(q.type == TF_RTCP_TWCC && q.twcc.base_seq == t->base_seq);
    CHECK(q.twcc.status_count == n && q.twcc.ref_time == t->ref_time);
    CHECK(q.twcc.fb_count == t->fb_count && q.twcc.sender_ssrc == t->sender_ssrc);
    CHECK(tf_rtcp_twcc_expand(&q.twcc, again, n) == (int)n);
    for (size_t i = 0; i < n; i++) {
        CHECK(again[i].seq == st[i].seq && again[i].received == st[i].received);
        CHECK(again[i].delta_us == st[i].delta_us && again[i].delta_us % 250 == 0);
    }
    free(st);
    free(again);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t p, q;
    if (tf_rtcp_iter_init(&it, data, size) != 0)
        return 0;
    int r;
    while ((r = tf_rtcp_iter_next(&it, &p)) == 1) {
        size_t n = tf_rtcp_marshal_size(&p);
        CHECK(n >= 4 && n % 4 == 0 && n <= size);
        uint8_t *out = malloc(n);
        CHECK(out);
        CHECK(tf_rtcp_marshal_to(&p, out, n) == (int)n);
        CHECK(tf_rtcp_marshal_to(&p, out, n - 1) == -ENOBUFS);
        parse_single(out, n, &q);
        check_same(&p, &q);
        if (p.type == TF_RTCP_NACK)
            check_nack_list(&p.nack);
        else if (p.type == TF_RTCP_FIR)
            check_fir_list(&p.fir);
        else if (p.type == TF_RTCP_TWCC)
            check_twcc_list(&p.twcc);
        free(out);
    }
    CHECK(r == 0);
    return 0;
}
