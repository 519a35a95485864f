/* test_room_rtx.c — the room towards a receiver that negotiated RTX and transport-cc, as a
 * browser (and tafel-load) does: bandwidth probes are padding-only RTX packets that carry the
 * transport-wide sequence number, sent only once the receiver's transport-cc feedback flows (a
 * member joins before its path is up), and a NACKed packet comes back on the RTX SSRC (RFC 4588:
 * OSN, original payload) with a fresh transport-wide sequence number, never the original's. The
 * room is driven as in test_room.c (room_test_sim.h); packets to the receiver are read directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libavutil/log.h>

#include "codec/frame.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "mixer/tier.h"
#include "server/room.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"

#include "room_test_sim.h"

enum { PT_RTX = 103, EXT_TWCC = 3, LOG_MAX = 20000 };
#define RTX_SSRC 0x5eed0001u

typedef struct seen {
    uint32_t ssrc;
    uint16_t seq, twcc, osn;
    bool has_twcc, padding;
    uint8_t orig[1500]; /* video: the packet itself; RTX: unwrapped */
    size_t orig_len;
    uint64_t at; /* arrival: when the room sent it (a lossless, instant link) */
} seen_t;

typedef struct rx_log {
    seen_t *v;
    int n;
    bool feedback; /* the receiver sends transport-cc feedback every 50 ms */
    int fb_next;   /* the first entry the next feedback reports */
    uint8_t fb_count;
    uint64_t next_fb;
} rx_log_t;

static int teardown(void **state)
{
    if (*state)
        sim_free(*state);
    *state = NULL;
    return 0;
}

/* Everything the room sends to `to`, in order; other members' packets are dropped. */
static void collect(sim_t *s, uint32_t to, const part_t *r, rx_log_t *log)
{
    tf_room_out_t *o = &s->out;
    while (tf_room_poll_out(s->room, o) == 0) {
        tf_rtp_packet_t p;
        if (o->member != to || o->rtcp || tf_rtp_parse(&p, o->data, o->len) < 0)
            continue;
        assert_true(log->n < LOG_MAX);
        seen_t *e = &log->v[log->n++];
        memset(e, 0, sizeof(*e));
        e->ssrc = p.ssrc;
        e->seq = p.seq;
        e->at = s->now;
        e->has_twcc = tf_rtp_get_twcc_seq(&p, EXT_TWCC, &e->twcc) == 0;
        if (p.ssrc == RTX_SSRC) {
            assert_int_equal(p.payload_type, PT_RTX);
            e->padding = p.payload_len == 0;
            if (!e->padding) {
                int n = tf_rtp_rtx_unwrap(o->data, o->len, PT_H264, r->out_vssrc, e->orig,
                                          sizeof(e->orig));
                assert_true(n > 0);
                e->orig_len = (size_t)n;
                e->osn = (uint16_t)(p.payload[0] << 8 | p.payload[1]);
            }
        } else if (p.ssrc == r->out_vssrc) {
            memcpy(e->orig, o->data, o->len);
            e->orig_len = o->len;
        }
    }
    uint32_t ev_to;
    char *json;
    while (tf_room_poll_event(s->room, &ev_to, &json) == 0)
        free(json);
}

/* transport-cc feedback about every packet since the last one (all received, in order) */
static void send_feedback(sim_t *s, const part_t *r, rx_log_t *log)
{
    int n = log->n - log->fb_next;
    if (n <= 0)
        return;
    assert_true(n <= 1000);
    static tf_rtcp_twcc_status_t st[1000];
    const seen_t *first = &log->v[log->fb_next];
    uint64_t ref = first->at / 64000, prev = ref * 64000;
    for (int i = 0; i < n; i++) {
        const seen_t *e = &log->v[log->fb_next + i];
        assert_int_equal(e->twcc, (uint16_t)(first->twcc + i));
        st[i] = (tf_rtcp_twcc_status_t){
            .seq = e->twcc, .received = true, .delta_us = (int32_t)(e->at - prev)};
        prev = e->at;
    }
    tf_rtcp_twcc_t hdr = {.sender_ssrc = r->vssrc,
                          .media_ssrc = r->out_vssrc,
                          .base_seq = first->twcc,
                          .status_count = (uint16_t)n,
                          .ref_time = (uint32_t)(ref & 0xffffff),
                          .fb_count = log->fb_count++};
    uint8_t out[1500];
    int len = tf_rtcp_twcc_build_to(&hdr, st, (size_t)n, out, sizeof(out));
    assert_true(len > 0);
    tf_room_rtcp_in(s->room, r->id, s->now, out, (size_t)len);
    log->fb_next = log->n;
}

/* Runs the room and its senders in 1 ms steps up to `until`. */
static void run_until(sim_t *s, uint64_t until, const part_t *r, rx_log_t *log)
{
    while (s->now < until) {
        sim_send_due(s);
        if (tf_room_next_deadline(s->room) <= s->now)
            tf_room_tick(s->room, s->now);
        collect(s, r->id, r, log);
        if (log->feedback && s->now >= log->next_fb) {
            send_feedback(s, r, log);
            log->next_fb = s->now + 50 * MS;
        }
        s->now += MS;
    }
}

static int count_probes(const rx_log_t *log, int from)
{
    int n = 0;
    for (int i = from; i < log->n; i++)
        n += log->v[i].padding;
    return n;
}

static void test_probes_and_retransmissions(void **state)
{
    sim_t *s = sim_create(state, 0);
    sim_add(s, 0, 1, 0);
    part_t *r = sim_add(s, -1, 1, 0);
    sim_leave(s, r); /* join again with what a browser's offer brings */
    tf_member_info_t mi;
    member_info(r, &mi);
    mi.video.rtx_pt = PT_RTX;
    mi.video.out_rtx_ssrc = RTX_SSRC;
    mi.video.ext[TF_SDP_EXT_TWCC] = EXT_TWCC;
    mi.audio.ext[TF_SDP_EXT_TWCC] = EXT_TWCC;
    mi.video.fb |= TF_SDP_FB_TWCC;
    assert_int_equal(tf_room_join(s->room, &mi, s->now), 0);
    r->joined = 1;

    rx_log_t log = {.v = calloc(LOG_MAX, sizeof(seen_t))};
    assert_non_null(log.v);
    /* no transport-cc feedback yet (the path may not be up): no probes */
    run_until(s, s->now + SEC, r, &log);
    assert_true(log.n > 10);
    expect_fixed(count_probes(&log, 0) == 0, "probes sent before the receiver's feedback flows");
    log.feedback = true;
    log.fb_next = log.n; /* what went before counts as lost to a path that was not up */
    int fb_from = log.n;
    run_until(s, s->now + 2 * SEC, r, &log);
    assert_true(count_probes(&log, fb_from) >= 5); /* the initial probe clusters */

    /* every packet carries a transport-wide number, each one once, in sending order; probes
     * are padding-only RTX packets */
    int video = 0, probes = 0;
    for (int i = 0; i < log.n; i++) {
        assert_true(log.v[i].has_twcc);
        if (i)
            assert_int_equal(log.v[i].twcc, (uint16_t)(log.v[i - 1].twcc + 1));
        video += log.v[i].ssrc == r->out_vssrc;
        probes += log.v[i].padding;
    }
    printf("  3 s: %d packets to the receiver, %d video, %d padding probes\n", log.n, video,
           probes);
    assert_true(video > 20);
    assert_true(probes >= 5); /* the estimator's initial probe clusters */

    /* NACK the newest video packet but two */
    int k = -1, skip = 2;
    for (int i = log.n - 1; i >= 0 && k < 0; i--)
        if (log.v[i].ssrc == r->out_vssrc && skip-- == 0)
            k = i;
    assert_true(k >= 0);
    seen_t orig = log.v[k];
    uint16_t newest_twcc = log.v[log.n - 1].twcc;
    uint8_t buf[256];
    int n =
        tf_rtcp_nack_build_to(mi.video.out_ssrc ^ 1, r->out_vssrc, &orig.seq, 1, buf, sizeof(buf));
    assert_true(n > 0);
    int before = log.n;
    tf_room_rtcp_in(s->room, r->id, s->now, buf, (size_t)n);
    collect(s, r->id, r, &log);
    run_until(s, s->now + 200 * MS, r, &log);

    int found = 0;
    for (int i = before; i < log.n; i++) {
        const seen_t *e = &log.v[i];
        assert_int_equal(e->twcc, (uint16_t)(log.v[i - 1].twcc + 1));
        if (e->ssrc != RTX_SSRC || e->padding)
            continue;
        found++;
        assert_int_equal(e->osn, orig.seq);
        /* a new transport-wide number, after everything sent before the NACK */
        expect_fixed(tf_rtp_seq_newer(e->twcc, newest_twcc) && e->twcc != orig.twcc,
                     "a retransmission reuses the original's transport-wide number");
        /* the payload is the original's; only the transport-wide number differs */
        assert_int_equal(e->orig_len, orig.orig_len);
        tf_rtp_packet_t a, b;
        assert_int_equal(tf_rtp_parse(&a, e->orig, e->orig_len), 0);
        assert_int_equal(tf_rtp_parse(&b, orig.orig, orig.orig_len), 0);
        assert_int_equal(a.seq, b.seq);
        assert_int_equal(a.timestamp, b.timestamp);
        assert_int_equal(a.payload_len, b.payload_len);
        assert_memory_equal(a.payload, b.payload, a.payload_len);
    }
    assert_int_equal(found, 1);
    tf_room_stats_t st;
    tf_room_get_stats(s->room, &st);
    assert_int_equal(st.nacks_answered, 1);
    free(log.v);
    sim_run(s, 100 * MS); /* the room goes on as usual (test_room.c's loop) */
    assert_null(tile_of(r, 0));
}

int main(void)
{
    av_log_set_level(AV_LOG_QUIET);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_probes_and_retransmissions, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
