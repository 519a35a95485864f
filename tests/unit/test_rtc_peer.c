/* test_rtc_peer.c — a real tf_peer_t and a browser-like client (stun.c checks, an OpenSSL DTLS
 * client with use_srtp, srtp.c) wired through an in-memory network with delay and seeded loss, on
 * a fake clock: handshake, loss, NACK/RTX video, consent, rebinding, junk. No sockets, no sleep.
 *
 * The world (network, server, client) is peer_test_net.h. OpenSSL 3.0 reads gettimeofday() for
 * its DTLS timers (see dtls.h): that header defines it so that OpenSSL's wall clock is the fake
 * clock, for the server's and the client's retransmissions alike. Every run prints its seed;
 * TAFEL_TEST_SEED=<n> runs another, TAFEL_TEST_TRACE=1 prints every datagram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/frame.h"
#include "codec/video.h"
#include "server/rtc/peer.h"
#include "server/rtc/recv_stream.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"
#include "server/rtc/send_stream.h"
#include "server/rtc/srtp.h"
#include "server/rtc/stun.h"

#include "tests/unit/peer_test_net.h"

static uint64_t base_seed = 0x7AFE1C0DEull;

/* ---- (a) handshake -------------------------------------------------------------------- */

static void handshake_and_media(const char *client_profiles, tf_srtp_profile_t expect)
{
    world_t w;
    world_opts_t o = {.seed = base_seed, .client_profiles = client_profiles};
    world_init(&w, &o);
    world_connect(&w, T0 + 10 * SEC);
    /* 20 ms each way: check out and back, ClientHello, flight 4, flight 5 at the server. */
    assert_int_equal(w.connected_at - T0, 100 * MS);
    assert_int_equal(w.cli.done_at - T0, 120 * MS);
    printf("handshake (%s): server connected after %llu ms, client after %llu ms; %llu checks\n",
           expect == TF_SRTP_AEAD_AES_128_GCM ? "AEAD_AES_128_GCM" : "AES_CM_128_HMAC_SHA1_80",
           (unsigned long long)((w.connected_at - T0) / MS),
           (unsigned long long)((w.cli.done_at - T0) / MS), (unsigned long long)w.cli.checks_sent);
    assert_int_equal(w.cli.profile, expect);

    /* Events in order: the address passed a check, was nominated, then DTLS and SRTP. */
    assert_true(w.n_log == 3);
    assert_int_equal(w.log[0].ev.kind, TF_PEER_EVENT_VALIDATED);
    assert_int_equal(w.log[1].ev.kind, TF_PEER_EVENT_SELECTED);
    assert_int_equal(w.log[2].ev.kind, TF_PEER_EVENT_CONNECTED);
    for (int i = 0; i < 3; i++)
        assert_true(tf_addr_equal(&w.log[i].ev.addr, &w.cli.addr));
    tf_addr_t remote;
    assert_int_equal(tf_peer_remote(w.peer, &remote), 0);
    assert_true(tf_addr_equal(&remote, &w.cli.addr));

    /* Media both ways, byte for byte. */
    for (uint16_t seq = 1; seq <= 5; seq++) {
        probe_up(&w, seq, 0, 1);
        assert_true(probe_down(&w, seq, 0));
    }
    probe_up(&w, 0, 1, 1);
    assert_true(probe_down(&w, 0, 1));
    tf_peer_stats_t st;
    tf_peer_get_stats(w.peer, &st);
    assert_int_equal(st.rtp_in, 5);
    assert_int_equal(st.rtcp_in, 1);
    assert_int_equal(st.dropped_srtp + st.dropped_unknown + st.dropped_unvalidated, 0);
    assert_int_equal(st.dropped_early, 0);
    assert_int_equal(w.cli.srtp_errors, 0);
    assert_false(w.closed);
    world_free(&w);
}

static void test_handshake_and_media(void **state)
{
    (void)state;
    handshake_and_media(NULL, TF_SRTP_AEAD_AES_128_GCM);
    handshake_and_media("SRTP_AES128_CM_SHA1_80", TF_SRTP_AES128_CM_SHA1_80);
}

/* ---- (b) handshake under loss --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

#define LOSSY_RUNS 30

/* A handshake is a handful of datagrams, so one seed may lose none: many seeds per loss rate.
 * Every seed must connect within the server's 30 s handshake timeout. OpenSSL 3.0's DTLS server
 * alone resends its flight only on its own timer (1, 2, 4, 8, 16 s: five tries in 30 s), so at
 * 30 % loss about 0.3^5 of handshakes used to starve although the client kept asking (seed
 * base + 2020 did); dtls.c now also answers each retransmitted client flight (RFC 6347 §4.2.4),
 * so the server gets as many tries as the client makes. */
static void test_handshake_under_loss(void **state)
{
    (void)state;
    static const double losses[] = {0.20, 0.25, 0.30};
    for (size_t li = 0; li < sizeof(losses) / sizeof(losses[0]); li++) {
        uint64_t ms[LOSSY_RUNS], lost = 0, cli_timeouts = 0, srv_dtls_resent = 0, checks = 0;
        int hit = 0, ok = 0;
        for (int k = 0; k < LOSSY_RUNS; k++) {
            world_t w;
            world_opts_t o = {.seed = base_seed + 1000 * li + (uint64_t)k,
                              .loss_up = losses[li],
                              .loss_down = losses[li]};
            world_init(&w, &o);
            run_until(&w, T0 + 30 * SEC, both_connected);
            hit += w.up.lost + w.down.lost > 0;
            lost += w.up.lost + w.down.lost;
            cli_timeouts += w.cli.dtls.timeouts;
            checks += w.cli.checks_sent;
            if (w.closed && !w.cli.dtls.done)
                printf("loss %2.0f%% seed %llu: no handshake; the client sent %llu DTLS "
                       "datagrams, the server %llu, of which %llu arrived\n",
                       losses[li] * 100, (unsigned long long)o.seed,
                       (unsigned long long)w.cli.dtls_datagrams,
                       (unsigned long long)w.srv_dtls_sent, (unsigned long long)w.cli.dtls_in);
            world_connect(&w, T0 + 30 * SEC);
            uint64_t done = w.cli.done_at > w.connected_at ? w.cli.done_at : w.connected_at;
            ms[ok++] = (done - T0) / MS;
            /* Without loss the server sends two DTLS datagrams: flight 4 and flight 6. */
            srv_dtls_resent += w.srv_dtls_sent - 2;
            /* Media flows afterwards (the probes need a lossless moment). */
            w.up.loss = w.down.loss = 0;
            probe_up(&w, 1, 0, 1);
            assert_true(probe_down(&w, 1, 0));
            world_free(&w);
        }
        qsort(ms, (size_t)ok, sizeof(ms[0]), cmp_u64);
        printf("loss %2.0f%% both ways, %d seeds from %llu: %d connected (median %llu ms, max "
               "%llu ms); %d runs lost datagrams (%llu in all), %llu checks, %llu "
               "client DTLS timeouts, %llu server DTLS datagrams resent\n",
               losses[li] * 100, LOSSY_RUNS, (unsigned long long)(base_seed + 1000 * li), ok,
               (unsigned long long)ms[ok / 2], (unsigned long long)ms[ok - 1], hit,
               (unsigned long long)lost, (unsigned long long)checks,
               (unsigned long long)cli_timeouts, (unsigned long long)srv_dtls_resent);
        assert_int_equal(ok, LOSSY_RUNS);
        assert_true(hit > LOSSY_RUNS / 2);
        assert_true(cli_timeouts > 0);    /* the client's timer, on the faked OpenSSL clock */
        assert_true(srv_dtls_resent > 0); /* the server's timer or its answer to a resend */
    }
}

/* The downlink is cut for 5 s right after the client started DTLS: only retransmissions (the
 * client's, on OpenSSL's faked clock, and the server's) can finish the handshake. */
static void test_handshake_dtls_retransmits(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed};
    world_init(&w, &o);
    run_until(&w, T0 + 40 * MS, NULL); /* the first answer is in: ClientHello sent */
    assert_true(w.cli.dtls_started);
    w.down.loss = 1.0;
    run_until(&w, T0 + 5 * SEC, NULL);
    assert_false(w.connected || w.cli.dtls.done);
    w.down.loss = 0;
    world_connect(&w, T0 + 30 * SEC);
    /* The client's ClientHello resent at 6.24 s arrives at 6.26 s; OpenSSL 3.0's server does
     * not answer a retransmitted ClientHello (RFC 6347 §4.2.4 has it resend its flight), so the
     * handshake waits for the server's own timer at 7.06 s and ends at 7.12 s. Sooner is fine. */
    assert_true(w.cli.done_at <= T0 + 7120 * MS);
    assert_true(w.cli.dtls.timeouts >= 3);
    assert_true(w.down.lost >= 3); /* the server resent its flight at 1 s and 3 s at least */
    printf("downlink cut for 5 s: connected after %llu ms, %llu client DTLS timeouts, %llu "
           "server datagrams lost\n",
           (unsigned long long)((w.cli.done_at - T0) / MS), (unsigned long long)w.cli.dtls.timeouts,
           (unsigned long long)w.down.lost);
    world_free(&w);
}

/* ---- (c) NACK recovery of an H.264 stream --------------------------------------------- */

#define VID_W 320
#define VID_H 180
#define VID_FPS 15
#define VID_FRAMES 120 /* checked; then VID_TAIL more, because a lost tail shows only when */
#define VID_TAIL 15    /* later packets come (a receiver cannot NACK what it never heard of) */
#define VID_SENT (VID_FRAMES + VID_TAIL)
#define VID_SSRC 0x1EAF0001u
#define RTX_SSRC 0x1EAF0002u
#define VID_PT 102
#define RTX_PT 103
#define VID_TS0 0x10000000u
#define VID_MAX_PAYLOAD 1100 /* leaves room for RTP header, RTX OSN and the SRTP tag */

struct video {
    /* client */
    tf_venc_t *enc;
    tf_frame_t *src, *ref;
    tf_send_stream_t *tx;
    uint64_t t_start;
    int next_frame, force_key;
    uint64_t au_hash[VID_SENT];
    uint32_t au_size[VID_SENT], au_nals[VID_SENT];
    uint16_t first_seq[VID_SENT], last_seq[VID_SENT];
    uint8_t sent[VID_SENT], forced[VID_SENT], key[VID_SENT], delivered[VID_SENT];
    uint64_t packets_sent, rtx_sent, plis_in, nack_msgs_in;
    int start_lost; /* the stream's first packet was lost: nothing can NACK it */
    /* server */
    tf_recv_stream_t *rx;
    tf_vdec_t *dec;
    uint64_t rtcp_out, frames_in, decoded;
    double psnr_sum;
};

static uint64_t frame_time(const video_t *v, int k)
{
    return v->t_start + (uint64_t)k * SEC / VID_FPS;
}

static void pattern(tf_frame_t *f, int t)
{
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * f->stride[0];
        for (int x = 0; x < f->width; x++) {
            uint32_t h = (uint32_t)(x / 4) * 73856093u ^ (uint32_t)(y / 4) * 19349663u;
            row[x] = (uint8_t)(48 + ((x + 2 * y + 3 * t) & 127) + (h >> 27));
        }
    }
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        memset(f->plane[1] + (size_t)y * f->stride[1], 100 + (y + t) % 40, (size_t)f->width / 2);
        memset(f->plane[2] + (size_t)y * f->stride[2], 140 - (y + 2 * t) % 40,
               (size_t)f->width / 2);
    }
    int bx = (t * 5) % (f->width - 64), by = (t * 3) % (f->height - 48);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++)
            f->plane[0][(size_t)(by + y) * f->stride[0] + bx + x] =
                (uint8_t)(((x >> 3) + (y >> 3)) & 1 ? 220 : 30);
    f->pts_us = (int64_t)t * (int64_t)SEC / VID_FPS;
}

static uint64_t nal_hash(const tf_venc_packet_t *au)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < au->n_nal; i++) {
        const uint8_t *p = au->data + au->nal[i].offset;
        for (uint32_t j = 0; j < au->nal[i].size; j++)
            h = (h ^ p[j]) * 1099511628211ull;
        h = (h ^ au->nal[i].size) * 1099511628211ull;
    }
    return h;
}

static double psnr_y(const tf_frame_t *a, const tf_frame_t *b)
{
    uint64_t sse = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            int d = a->plane[0][(size_t)y * a->stride[0] + x] -
                    b->plane[0][(size_t)y * b->stride[0] + x];
            sse += (uint64_t)(d * d);
        }
    if (!sse)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 * a->width * a->height / (double)sse);
}

static void client_send_media(world_t *w, uint8_t *pkt, size_t len)
{
    assert_int_equal(tf_srtp_protect_rtp(w->cli.srtp, pkt, &len, TF_PEER_MAX_DATAGRAM), 0);
    net_send(w, &w->cli.addr, &w->srv_addr, pkt, len);
}

static void video_send_frame(world_t *w)
{
    video_t *v = w->vid;
    int k = v->next_frame++;
    pattern(v->src, k);
    tf_venc_packet_t au;
    assert_int_equal(tf_venc_encode(v->enc, v->src, v->force_key, &au), 0);
    assert_true(au.size > 0); /* zerolatency: one access unit per frame */
    v->forced[k] = (uint8_t)v->force_key;
    v->force_key = 0;
    v->key[k] = (uint8_t)au.keyframe;
    v->sent[k] = 1;
    v->au_hash[k] = nal_hash(&au);
    v->au_size[k] = (uint32_t)au.size;
    v->au_nals[k] = (uint32_t)au.n_nal;
    tf_send_stats_t sst;
    tf_send_stream_get_stats(v->tx, &sst);
    v->first_seq[k] = sst.next_seq;

    tf_rtp_h264_packetizer_t pk;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, VID_MAX_PAYLOAD), 0);
    uint8_t payload[TF_PEER_MAX_DATAGRAM];
    bool marker = false;
    int n;
    while ((n = tf_rtp_h264_packetize_next(&pk, payload, sizeof(payload), &marker)) >= 0) {
        tf_rtp_packet_t p;
        memset(&p, 0, sizeof(p));
        p.timestamp = VID_TS0 + (uint32_t)k * (90000 / VID_FPS);
        p.marker = marker;
        p.payload = payload;
        p.payload_len = (size_t)n;
        uint8_t pkt[TF_PEER_MAX_DATAGRAM];
        int len = tf_send_stream_write(v->tx, (int64_t)w->now, &p, pkt,
                                       sizeof(pkt) - TF_SRTP_MAX_RTP_OVERHEAD);
        assert_true(len > 0);
        uint64_t lost = w->up.lost;
        client_send_media(w, pkt, (size_t)len);
        if (v->packets_sent++ == 0)
            v->start_lost = w->up.lost > lost;
    }
    assert_int_equal(n, -EAGAIN);
    assert_true(marker);
    tf_send_stream_get_stats(v->tx, &sst);
    v->last_seq[k] = (uint16_t)(sst.next_seq - 1);
}

/* The browser's side of RTCP feedback: NACK -> RTX from the send history, PLI -> key frame. */
static void video_client_rtcp(world_t *w, const uint8_t *buf, size_t len)
{
    video_t *v = w->vid;
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t p;
    assert_int_equal(tf_rtcp_iter_init(&it, buf, len), 0);
    while (tf_rtcp_iter_next(&it, &p) == 1) {
        if (p.type == TF_RTCP_NACK && p.nack.media_ssrc == VID_SSRC) {
            v->nack_msgs_in++;
            tf_send_stream_on_nack_rtcp(v->tx, (int64_t)w->now, &p.nack);
        } else if (p.type == TF_RTCP_PLI && p.pli.media_ssrc == VID_SSRC) {
            v->plis_in++;
            v->force_key = 1;
        }
    }
    uint8_t pkt[TF_PEER_MAX_DATAGRAM];
    int n;
    while ((n = tf_send_stream_poll_retransmit(v->tx, (int64_t)w->now, pkt,
                                               sizeof(pkt) - TF_SRTP_MAX_RTP_OVERHEAD)) > 0) {
        client_send_media(w, pkt, (size_t)n);
        v->rtx_sent++;
    }
    assert_int_equal(n, -EAGAIN);
}

/* The server: route by SSRC to the receive stream (media and RTX SSRC). */
static void video_server_rtp(world_t *w, const uint8_t *buf, size_t len)
{
    tf_rtp_packet_t p;
    assert_int_equal(tf_rtp_parse(&p, buf, len), 0);
    assert_true(p.ssrc == VID_SSRC || p.ssrc == RTX_SSRC);
    assert_int_equal(tf_recv_stream_push(w->vid->rx, (int64_t)w->now, buf, len), 0);
}

static void video_server_poll(world_t *w)
{
    video_t *v = w->vid;
    tf_recv_frame_t f;
    while (tf_recv_stream_poll_frame(v->rx, &f) == 0) {
        uint32_t dts = f.timestamp - VID_TS0;
        assert_int_equal(dts % (90000 / VID_FPS), 0);
        int k = (int)(dts / (90000 / VID_FPS));
        assert_true(k >= 0 && k < VID_SENT && v->sent[k]);
        assert_false(v->delivered[k]);
        v->delivered[k] = 1;
        v->frames_in++;
        /* Complete means byte for byte: the same NAL units the encoder wrote. */
        tf_venc_packet_t au;
        assert_true(tf_rtp_h264_annexb_split(f.data, f.size, &au) > 0);
        if (nal_hash(&au) != v->au_hash[k])
            printf("frame %d differs: got %zu bytes, %d NALs, seq %u..%u; sent %u bytes, %u "
                   "NALs, seq %u..%u\n",
                   k, f.size, au.n_nal, f.first_seq, f.last_seq, v->au_size[k], v->au_nals[k],
                   v->first_seq[k], v->last_seq[k]);
        assert_true(nal_hash(&au) == v->au_hash[k]);
        assert_int_equal(f.keyframe, v->key[k]);
        tf_frame_t *pic = NULL;
        int64_t pts = (int64_t)k * (int64_t)SEC / VID_FPS;
        assert_int_equal(tf_vdec_decode(v->dec, f.data, f.size, pts, &pic), 0);
        assert_non_null(pic);
        assert_int_equal(pic->width, VID_W);
        assert_int_equal(pic->height, VID_H);
        pattern(v->ref, k);
        v->psnr_sum += psnr_y(v->ref, pic);
        v->decoded++;
        tf_frame_unref(&pic);
    }

    tf_recv_feedback_t fb;
    while (tf_recv_stream_poll_feedback(v->rx, (int64_t)w->now, &fb) == 0) {
        uint8_t out[TF_PEER_MAX_DATAGRAM];
        tf_rtcp_packet_t rr;
        memset(&rr, 0, sizeof(rr));
        rr.type = TF_RTCP_RR;
        rr.rr.ssrc = SRV_SSRC;
        if (tf_recv_stream_report_block(v->rx, (int64_t)w->now, &rr.rr.rb[0]) == 0)
            rr.rr.rb_count = 1;
        int n = tf_rtcp_marshal_to(&rr, out, sizeof(out));
        assert_true(n > 0);
        size_t off = (size_t)n;
        if (fb.nack_count) {
            n = tf_rtcp_nack_build_to(SRV_SSRC, VID_SSRC, fb.nack, fb.nack_count, out + off,
                                      sizeof(out) - off);
            assert_true(n > 0);
            off += (size_t)n;
        }
        if (fb.pli) {
            tf_rtcp_packet_t pli;
            memset(&pli, 0, sizeof(pli));
            pli.type = TF_RTCP_PLI;
            pli.pli.sender_ssrc = SRV_SSRC;
            pli.pli.media_ssrc = VID_SSRC;
            n = tf_rtcp_marshal_to(&pli, out + off, sizeof(out) - off);
            assert_true(n > 0);
            off += (size_t)n;
        }
        size_t len = off;
        assert_int_equal(tf_peer_protect_rtcp(w->peer, out, &len, sizeof(out)), 0);
        tf_addr_t to;
        assert_int_equal(tf_peer_remote(w->peer, &to), 0);
        net_send(w, &w->srv_addr, &to, out, len);
        v->rtcp_out++;
    }
}

static uint64_t video_deadline(const world_t *w)
{
    const video_t *v = w->vid;
    uint64_t t = v->next_frame < VID_SENT ? frame_time(v, v->next_frame) : UINT64_MAX;
    int64_t r = tf_recv_stream_poll_timeout(v->rx);
    if (r != INT64_MAX && (uint64_t)(r < 0 ? 0 : r) < t)
        t = (uint64_t)(r < 0 ? 0 : r);
    return t;
}

static void video_tick(world_t *w)
{
    video_t *v = w->vid;
    while (v->next_frame < VID_SENT && w->now >= frame_time(v, v->next_frame))
        video_send_frame(w);
    tf_recv_stream_handle_timeout(v->rx, (int64_t)w->now);
    video_server_poll(w);
}

static const world_media_t video_media = {video_server_rtp, video_client_rtcp, video_deadline,
                                          video_tick};

static void test_nack_recovery(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed + 7};
    world_init(&w, &o);
    world_connect(&w, T0 + 10 * SEC);
    /* The link turns lossy for media and feedback alike. */
    w.up.loss = w.down.loss = 0.05;

    video_t *v = calloc(1, sizeof(*v));
    assert_non_null(v);
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, VID_W, VID_H, 500);
    vc.fps_num = VID_FPS;
    vc.fps_den = 1;
    assert_int_equal(tf_venc_create(&v->enc, &vc), 0);
    assert_int_equal(tf_vdec_create(&v->dec, TF_VCODEC_H264), 0);
    v->src = tf_frame_alloc(VID_W, VID_H);
    v->ref = tf_frame_alloc(VID_W, VID_H);
    assert_non_null(v->src);
    assert_non_null(v->ref);
    tf_send_stream_config_t sc;
    tf_send_stream_config_default(&sc, VID_SSRC, VID_PT, 90000);
    sc.rtx = true;
    sc.rtx_ssrc = RTX_SSRC;
    sc.rtx_payload_type = RTX_PT;
    sc.first_seq = 64000; /* wraps during the run */
    sc.first_rtx_seq = 1234;
    assert_int_equal(tf_send_stream_create(&v->tx, &sc), 0);
    tf_recv_stream_config_t rc;
    tf_recv_stream_config_default(&rc, TF_RECV_CODEC_H264, VID_SSRC, VID_PT);
    rc.rtx = true;
    rc.rtx_ssrc = RTX_SSRC;
    rc.rtx_payload_type = RTX_PT;
    /* A new decoder cannot start from an IDR whose SPS and PPS went missing (the STAP-A before
     * it was the stream's first packet and was lost: nothing before the first packet can be
     * NACKed). With the default (false) such an IDR is delivered as the key frame and fails to
     * decode: TAFEL_TEST_SEED=3 shows it. */
    rc.h264_key_needs_sps_pps = true;
    assert_int_equal(tf_recv_stream_create(&v->rx, &rc), 0);
    /* Both ends know the round trip (40 ms here) from RTCP, as they would after a few reports. */
    tf_recv_stream_set_rtt(v->rx, 2 * (int64_t)w.up.delay_us);
    tf_send_stream_set_rtt(v->tx, 2 * (int64_t)w.up.delay_us);
    v->t_start = w.now + 10 * MS;
    w.media = &video_media;
    w.vid = v;

    uint64_t end = frame_time(v, VID_SENT - 1);
    run_until(&w, end + 2 * SEC, NULL);
    w.vid = NULL;

    tf_recv_stats_t rs;
    tf_send_stats_t ss;
    tf_recv_stream_get_stats(v->rx, &rs);
    tf_send_stream_get_stats(v->tx, &ss);
    int lost_frames = 0, unhealed = 0, forced = 0;
    for (int k = 0; k < VID_FRAMES; k++) {
        assert_true(v->sent[k]);
        forced += v->forced[k];
        if (v->delivered[k])
            continue;
        lost_frames++;
        /* A frame may go missing only behind an unrecoverable gap, and then a key frame that
         * the server asked for (PLI) must have been delivered after it. */
        int healed = 0;
        for (int j = k + 1; j < VID_SENT && !healed; j++)
            healed = v->forced[j] && v->delivered[j];
        if (!healed) {
            printf("frame %d (seq %u..%u, key %d) never delivered, nothing healed it\n", k,
                   v->first_seq[k], v->last_seq[k], v->key[k]);
            unhealed++;
        }
    }
    printf("video seed %llu: %d frames, %llu packets, lost %llu/%llu up %llu/%llu down%s; "
           "%llu NACKed seqs in %llu NACKs, %llu RTX sent, %llu recovered, %llu given up, "
           "%llu late, %llu PLIs (%d forced key frames); %llu delivered, %llu decoded, "
           "mean Y-PSNR %.1f dB\n",
           (unsigned long long)o.seed, VID_FRAMES, (unsigned long long)v->packets_sent,
           (unsigned long long)w.up.lost, (unsigned long long)w.up.sent,
           (unsigned long long)w.down.lost, (unsigned long long)w.down.sent,
           v->start_lost ? " (the first packet too)" : "", (unsigned long long)rs.nack_seqs,
           (unsigned long long)v->nack_msgs_in, (unsigned long long)v->rtx_sent,
           (unsigned long long)rs.recovered, (unsigned long long)rs.given_up,
           (unsigned long long)rs.late, (unsigned long long)rs.plis, forced,
           (unsigned long long)v->frames_in, (unsigned long long)v->decoded,
           v->decoded ? v->psnr_sum / (double)v->decoded : 0.0);
    assert_int_equal(unhealed, 0);
    assert_true(w.up.lost > 0);    /* the loss was real... */
    assert_true(rs.recovered > 0); /* ...and NACK + RTX repaired it */
    assert_int_equal(ss.rtx_packets, v->rtx_sent);
    if (!v->start_lost && rs.given_up == 0 && rs.late == 0 && rs.frames_incomplete == 0) {
        assert_int_equal(lost_frames, 0); /* nothing unrecoverable: every frame arrived */
        assert_int_equal(rs.frames_dropped, 0);
        assert_int_equal(rs.plis, 0);
    } else if (lost_frames) {
        assert_true(rs.plis > 0);
    }
    assert_true(v->delivered[VID_FRAMES - 1]);
    assert_int_equal(v->decoded, v->frames_in);
    assert_int_equal(rs.frames, v->frames_in);
    assert_true(v->psnr_sum / (double)v->decoded > 28.0);
    assert_false(w.closed);

    tf_venc_destroy(&v->enc);
    tf_vdec_destroy(&v->dec);
    tf_frame_unref(&v->src);
    tf_frame_unref(&v->ref);
    tf_send_stream_destroy(&v->tx);
    tf_recv_stream_destroy(&v->rx);
    free(v);
    world_free(&w);
}

/* ---- (d) consent and rebinding -------------------------------------------------------- */

static void test_consent_expiry(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed + 11};
    world_init(&w, &o);
    world_connect(&w, T0 + 10 * SEC);

    /* Checks every 2.5 s keep the session alive well past 30 s. */
    run_until(&w, T0 + 65 * SEC, NULL);
    assert_false(w.closed);
    assert_true(w.cli.answers >= 26);

    /* The client stops checking (tab closed, network gone) but media still comes: SRTP is
     * not consent (RFC 7675 §5.1 needs STUN). */
    w.cli.checks_on = 0;
    run_until(&w, w.now + 100 * MS, NULL);
    uint64_t last = w.last_stun_in, deadline = last + 30 * SEC;
    assert_int_equal(tf_peer_poll_timeout(w.peer), deadline);
    uint16_t seq = 1;
    while (w.now + SEC < deadline) {
        run_until(&w, w.now + SEC - w.up.delay_us, NULL);
        probe_up(&w, seq++, 0, 1);
    }
    run_until(&w, deadline - 1, NULL);
    assert_false(w.closed);
    assert_true(tf_peer_connected(w.peer));
    run_until(&w, deadline, is_closed);
    assert_true(w.closed);
    assert_int_equal(w.closed_at, deadline);
    assert_int_equal(w.close_error, -ETIMEDOUT);
    const logged_event_t *ev = find_event(&w, TF_PEER_EVENT_CLOSED, 0);
    assert_non_null(ev);
    printf("consent: last check at +%.3f s, CLOSED (%s) at +%.3f s\n", (double)(last - T0) / SEC,
           ev->ev.reason, (double)(w.closed_at - T0) / SEC);

    /* Closed is terminal: nothing goes in or out any more. */
    assert_false(tf_peer_connected(w.peer));
    uint8_t pkt[64];
    size_t len = make_rtp(pkt, 99, PROBE_SSRC, 40);
    assert_int_equal(tf_peer_handle_input(w.peer, w.now, &w.cli.addr, pkt, &len), -EPIPE);
    assert_int_equal(tf_peer_protect_rtp(w.peer, pkt, &len, sizeof(pkt)), -ENOTCONN);
    assert_int_equal(tf_peer_poll_timeout(w.peer), UINT64_MAX);
    tf_peer_transmit_t tx;
    assert_int_equal(tf_peer_poll_transmit(w.peer, &tx), -EAGAIN);
    world_free(&w);
}

/* The NAT gives the client a new port mid-session; its next check (with USE-CANDIDATE, as the
 * brief's browser sends) moves the path at once. */
static void test_nat_rebinding(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed + 13};
    world_init(&w, &o);
    world_connect(&w, T0 + 10 * SEC);
    probe_up(&w, 1, 0, 1);
    assert_true(probe_down(&w, 1, 0));
    run_until(&w, w.now + 1 * SEC, NULL);

    tf_addr_t old = w.cli.addr, moved = tf_addr_v4(198, 51, 100, 7, 61234);
    w.cli.addr = moved;
    tf_peer_stats_t before, after;
    tf_peer_get_stats(w.peer, &before);
    /* Media from the new address before any check there: not ours to decrypt yet. */
    probe_up(&w, 2, 0, 0);
    tf_peer_get_stats(w.peer, &after);
    assert_int_equal(after.dropped_unvalidated, before.dropped_unvalidated + 1);
    /* What the server sends still goes to the old mapping, which is gone. */
    uint64_t stale = w.stale_drops;
    assert_false(probe_down(&w, 2, 0));
    assert_int_equal(w.stale_drops, stale + 1);

    int n_before = w.n_log;
    uint64_t t_check = w.now;
    client_send_check(&w);
    run_until(&w, w.now + 2 * w.up.delay_us, NULL);
    const logged_event_t *val = find_event(&w, TF_PEER_EVENT_VALIDATED, 1);
    const logged_event_t *sel = find_event(&w, TF_PEER_EVENT_SELECTED, 1);
    assert_non_null(val);
    assert_non_null(sel);
    assert_true(w.n_log == n_before + 2);
    assert_true(tf_addr_equal(&val->ev.addr, &moved));
    assert_true(tf_addr_equal(&sel->ev.addr, &moved));
    assert_true(tf_addr_equal(&sel->ev.prev, &old));
    assert_int_equal(sel->at, t_check + w.up.delay_us);
    tf_addr_t remote;
    assert_int_equal(tf_peer_remote(w.peer, &remote), 0);
    assert_true(tf_addr_equal(&remote, &moved));
    /* Media flows on the new path both ways, SRTP state intact. */
    for (uint16_t s = 3; s < 8; s++) {
        probe_up(&w, s, 0, 1);
        assert_true(probe_down(&w, s, 0));
    }
    /* ...and consent now runs on the new address. */
    run_until(&w, w.now + 40 * SEC, NULL);
    assert_false(w.closed);
    printf("rebinding: moved %u -> %u, SELECTED 1 one-way delay after the first check there\n",
           old.port, moved.port);
    world_free(&w);
}

/* Chrome-like checks without USE-CANDIDATE after nomination: a check from the new address
 * validates it (its media is accepted at once) but the path moves only after the old address
 * has been quiet for 2.5 s, so a backup-pair ping cannot flap it. */
static void test_nat_rebinding_regular_nomination(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed + 17};
    world_init(&w, &o);
    w.cli.use_candidate_after_answer = 0;
    world_connect(&w, T0 + 10 * SEC);
    run_until(&w, w.now + 3 * SEC, NULL);
    uint64_t last_old = w.last_stun_in;

    tf_addr_t old = w.cli.addr, moved = tf_addr_v4(198, 51, 100, 7, 61235);
    w.cli.addr = moved;
    client_send_check(&w); /* well within 2.5 s of the last check from the old port */
    run_until(&w, w.now + 2 * w.up.delay_us, NULL);
    assert_true(w.now - last_old < 2500 * MS);
    assert_int_equal(count_events(&w, TF_PEER_EVENT_SELECTED), 1);
    assert_int_equal(count_events(&w, TF_PEER_EVENT_VALIDATED), 2);
    probe_up(&w, 1, 0, 1);              /* validated: its media decrypts */
    assert_false(probe_down(&w, 1, 0)); /* but ours still goes to the old path */

    /* The next check comes 2.5 s later: the old address has been quiet long enough. */
    run_until(&w, w.now + 3 * SEC, NULL);
    const logged_event_t *sel = find_event(&w, TF_PEER_EVENT_SELECTED, 1);
    assert_non_null(sel);
    assert_true(tf_addr_equal(&sel->ev.addr, &moved));
    assert_true(tf_addr_equal(&sel->ev.prev, &old));
    assert_true(sel->at - last_old >= 2500 * MS);
    assert_true(probe_down(&w, 2, 0));
    printf("regular nomination: path moved %.3f s after the old port's last check\n",
           (double)(sel->at - last_old) / SEC);
    world_free(&w);
}

/* ---- (e) junk ------------------------------------------------------------------------- */

typedef struct junk_count {
    uint64_t stun, dtls, unknown, unvalidated, srtp, early;
} junk_count_t;

/* RFC 7983 classes by first byte, each hit with every kind of junk. */
static const struct {
    uint8_t lo, hi;
} classes[] = {{0, 3}, {4, 19}, {20, 63}, {64, 79}, {80, 127}, {128, 191}, {192, 255}};

/* Random bytes of one class; a third of them shaped to pass the cheap checks of their class
 * (STUN magic cookie and length, DTLS record header, RTP/RTCP version and our SSRCs). */
static size_t make_junk(rng_t *r, uint8_t lo, uint8_t hi, int from_client, int connected,
                        uint8_t *buf)
{
    size_t len = rng_range(r, 1, 1200);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rng_next(r);
    buf[0] = (uint8_t)rng_range(r, lo, hi);
    int shaped = rng_range(r, 0, 2) == 0;
    if (lo == 0 && shaped && len >= 20) { /* STUN header, attributes garbage */
        len &= ~(size_t)3;
        buf[0] &= 1; /* request or indication bits only */
        buf[2] = (uint8_t)((len - 20) >> 8), buf[3] = (uint8_t)(len - 20);
        buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xA4, buf[7] = 0x42;
    } else if (lo == 20 && len >= 13) {
        if (shaped && connected) { /* a DTLS 1.2 record in epoch 0 or 1, body garbage */
            buf[1] = 0xFE, buf[2] = 0xFD, buf[3] = 0, buf[4] = (uint8_t)rng_range(r, 0, 1);
            buf[11] = (uint8_t)((len - 13) >> 8), buf[12] = (uint8_t)(len - 13);
        } else if (from_client && !connected && buf[1] == 0xFE) {
            /* Before the keys, a well-formed epoch-0 record from the client's own address is
             * indistinguishable from its handshake (DTLS has no integrity there yet): junk
             * that the protocol cannot refuse is not what this test is about. */
            buf[1] = 0x17;
        }
    } else if (lo == 128 && shaped && len >= 12) {
        static const uint32_t ssrcs[] = {PROBE_SSRC, VID_SSRC, 0xDEADBEEFu};
        uint32_t s = ssrcs[rng_range(r, 0, 2)];
        buf[0] = 0x80 | (buf[0] & 0x0F);
        if (rng_range(r, 0, 1))
            buf[1] = (uint8_t)rng_range(r, 200, 206); /* RTCP */
        buf[8] = (uint8_t)(s >> 24), buf[9] = (uint8_t)(s >> 16), buf[10] = (uint8_t)(s >> 8);
        buf[11] = (uint8_t)s;
    }
    return len;
}

/* Injects `per_class` datagrams of every class from `from`, straight into the server, and
 * keeps count of where each must land in tf_peer_stats_t. */
static void inject_junk(world_t *w, rng_t *r, const tf_addr_t *from, int per_class,
                        junk_count_t *expect)
{
    int from_client = tf_addr_equal(from, &w->cli.addr);
    int connected = tf_peer_connected(w->peer);
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
        for (int i = 0; i < per_class; i++) {
            uint8_t buf[TF_PEER_MAX_DATAGRAM];
            size_t len = make_junk(r, classes[c].lo, classes[c].hi, from_client, connected, buf);
            uint8_t b0 = buf[0];
            int kind = server_input(w, from, buf, len);
            if (b0 <= 3) {
                expect->stun++;
                assert_true(kind <= 0); /* malformed, unauthenticated, or a keepalive */
            } else if (!from_client) {
                expect->unvalidated++;
                assert_int_equal(kind, -EACCES);
            } else if (b0 >= 20 && b0 <= 63) {
                expect->dtls++;
                assert_int_equal(kind, TF_PEER_INPUT_NONE); /* OpenSSL discards it */
            } else if (b0 >= 128 && b0 <= 191) {
                if (connected)
                    expect->srtp++;
                else
                    expect->early++;
                assert_true(kind < 0);
            } else {
                expect->unknown++;
                assert_int_equal(kind, -EPROTO);
            }
        }
    }
}

static void check_junk_stats(const tf_peer_stats_t *st, const junk_count_t *e, uint64_t real_stun,
                             uint64_t real_dtls)
{
    assert_int_equal(st->stun_in, e->stun + real_stun);
    assert_int_equal(st->dtls_in, e->dtls + real_dtls);
    assert_int_equal(st->dropped_unknown, e->unknown);
    assert_int_equal(st->dropped_unvalidated, e->unvalidated);
    assert_int_equal(st->dropped_srtp, e->srtp);
    assert_int_equal(st->dropped_early, e->early);
}

static void test_junk(void **state)
{
    (void)state;
    world_t w;
    world_opts_t o = {.seed = base_seed + 19};
    world_init(&w, &o);
    rng_t r = {base_seed ^ 0x4A554E4Bull};
    junk_count_t e = {0};
    const int per_class = 40;

    /* Strangers before anyone passed a check. */
    for (int s = 0; s < 3; s++) {
        tf_addr_t stranger = tf_addr_v4(203, 0, 113, (uint8_t)(10 + s), (uint16_t)(40000 + s));
        inject_junk(&w, &r, &stranger, per_class, &e);
    }
    assert_int_equal(w.n_log, 0);
    /* The client's check arrives (20 ms), then junk from it and from strangers while DTLS is
     * still to come, and again once the server's first flight is out. */
    run_until(&w, T0 + 20 * MS, NULL);
    assert_int_equal(count_events(&w, TF_PEER_EVENT_VALIDATED), 1);
    inject_junk(&w, &r, &w.cli.addr, per_class, &e);
    tf_addr_t stranger = tf_addr_v4(203, 0, 113, 99, 41000);
    inject_junk(&w, &r, &stranger, per_class, &e);
    run_until(&w, T0 + 61 * MS, NULL); /* the ClientHello arrived, flight 4 sent */
    inject_junk(&w, &r, &w.cli.addr, per_class, &e);
    world_connect(&w, T0 + 10 * SEC);
    printf("junk during the handshake: connected after %llu ms\n",
           (unsigned long long)((w.connected_at - T0) / MS));

    /* Connected: junk again, this time with well-formed DTLS records and SRTP replays. */
    probe_up(&w, 1, 0, 1);
    uint8_t replay[TF_PEER_MAX_DATAGRAM];
    size_t rlen = make_rtp(replay, 2, PROBE_SSRC, 300);
    assert_int_equal(tf_srtp_protect_rtp(w.cli.srtp, replay, &rlen, sizeof(replay)), 0);
    assert_int_equal(server_input(&w, &w.cli.addr, replay, rlen), TF_PEER_INPUT_RTP);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(server_input(&w, &w.cli.addr, replay, rlen), -EALREADY);
        e.srtp++;
    }
    for (int s = 0; s < 4; s++) {
        tf_addr_t x = tf_addr_v4(203, 0, 113, (uint8_t)(100 + s), (uint16_t)(42000 + s));
        inject_junk(&w, &r, &x, per_class, &e);
        inject_junk(&w, &r, &w.cli.addr, per_class, &e);
    }
    /* The stranger's replay of the client's SRTP goes nowhere either. */
    assert_int_equal(server_input(&w, &stranger, replay, rlen), -EACCES);
    e.unvalidated++;

    /* Count the real datagrams the server got from the client so far: checks and DTLS. */
    tf_peer_stats_t st;
    tf_peer_get_stats(w.peer, &st);
    assert_int_equal(w.up.lost, 0);
    check_junk_stats(&st, &e, w.cli.checks_sent, w.cli.dtls_datagrams);
    assert_int_equal(st.rtp_in, 2);

    /* Nothing changed: the same path, still connected, media and checks both ways. */
    assert_false(w.closed);
    assert_true(tf_peer_connected(w.peer));
    tf_addr_t remote;
    assert_int_equal(tf_peer_remote(w.peer, &remote), 0);
    assert_true(tf_addr_equal(&remote, &w.cli.addr));
    assert_int_equal(count_events(&w, TF_PEER_EVENT_SELECTED), 1);
    assert_int_equal(count_events(&w, TF_PEER_EVENT_VALIDATED), 1);
    uint64_t answers = w.cli.answers;
    run_until(&w, w.now + 3 * SEC, NULL);
    assert_true(w.cli.answers > answers);
    for (uint16_t s = 3; s < 6; s++) {
        probe_up(&w, s, s & 1, 1);
        assert_true(probe_down(&w, s, s & 1));
    }
    printf("junk: %llu STUN-class, %llu DTLS-class (client), %llu unknown, %llu unvalidated, "
           "%llu bad SRTP, %llu early SRTP: all dropped, session intact\n",
           (unsigned long long)e.stun, (unsigned long long)e.dtls, (unsigned long long)e.unknown,
           (unsigned long long)e.unvalidated, (unsigned long long)e.srtp,
           (unsigned long long)e.early);
    world_free(&w);
}

int main(void)
{
    const char *s = getenv("TAFEL_TEST_SEED");
    if (s && *s)
        base_seed = strtoull(s, NULL, 0);
    trace = getenv("TAFEL_TEST_TRACE") != NULL;
    printf("test_rtc_peer: seed %llu (TAFEL_TEST_SEED=%llu to replay)\n",
           (unsigned long long)base_seed, (unsigned long long)base_seed);
    fflush(stdout);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_and_media),
        cmocka_unit_test(test_handshake_under_loss),
        cmocka_unit_test(test_handshake_dtls_retransmits),
        cmocka_unit_test(test_nack_recovery),
        cmocka_unit_test(test_consent_expiry),
        cmocka_unit_test(test_nat_rebinding),
        cmocka_unit_test(test_nat_rebinding_regular_nomination),
        cmocka_unit_test(test_junk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
