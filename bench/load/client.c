/* client.c — one simulated participant of tafel-load, as a browser behaves on the wire: WHIP
 * offer, ICE checks with USE-CANDIDATE, the DTLS client (tests/unit/dtls_test_client.h), SRTP,
 * replay of its pre-encoded clip at real-time pacing with fresh sequence numbers and timestamps
 * (switching clip size, from the new clip's IDR, when the server's `uplink` message asks),
 * and on the receive side depacketizing (recv_stream.c), NACK/PLI with RTX (retransmissions
 * unwrapped, padding probes counted in transport-cc feedback), receiver reports, Opus in-band FEC
 * for a lost packet (audio_rx.c), decoding when sampled, reading the frame stamps out of each
 * tile and the tone bursts out of the mix. It does not render, play out or follow REMB (only the
 * `uplink` message). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "bench/load/load.h"
#include "bench/load/audio_rx.h"
#include "bench/load/stamp.h"
#include "tests/unit/tone_meter.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"
#include "server/rtc/sdp.h"

#define MS 1000ull
#define SEC 1000000ull
#define FRAME_US (SEC / TF_CLIP_FPS)
#define AFRAME_US (20 * MS)
#define LATE_US (100 * MS)   /* a frame this much later than the stream's best delay is late */
#define FREEZE_US (500 * MS) /* no new frame for this long is a freeze */
#define CHECK_FAST_US (50 * MS)
#define CHECK_CONSENT_US (2500 * MS)
#define CONNECT_LIMIT_US (30 * SEC) /* the server's own DTLS limit */
#define MTU 1200

static uint8_t rx_buf[2048]; /* one loop thread: every datagram is handled inside its callback */

static void fail(part_t *p, const char *why)
{
    if (p->state == P_FAILED)
        return;
    snprintf(p->fail, sizeof(p->fail), "%s", why);
    if (p->lg->verbose)
        fprintf(stderr, "tafel-load: participant %d: %s\n", p->idx, why);
    p->state = P_FAILED;
}

static uint32_t rand_u32(void)
{
    uint32_t v = 0;
    while (v == 0)
        RAND_bytes((uint8_t *)&v, sizeof(v));
    return v;
}

static void rand_text(char *out, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t r[64];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = abc[r[i] % 62];
    out[n] = 0;
}

static void udp_send(part_t *p, const uint8_t *data, size_t len)
{
    if (sendto(p->fd, data, len, MSG_DONTWAIT, (const struct sockaddr *)&p->to, sizeof(p->to)) > 0)
        p->st.tx_bytes += len;
    else
        p->st.tx_errors++;
}

/* ---- ICE and DTLS ------------------------------------------------------------------------ */

static void send_check(part_t *p, uint64_t now)
{
    uint8_t out[512];
    uint32_t seq = ++p->tid_seq;
    uint8_t *tid = p->tid[seq % 8];
    p->tid_at[seq % 8] = now;
    for (int i = 0; i < TF_STUN_TID_LEN; i++)
        tid[i] = (uint8_t)((seq * 2654435761u + (uint32_t)p->idx * 97u) >> (i % 4 * 8)) ^
                 (uint8_t)(i * 37);
    tf_stun_msg_t m;
    tf_stun_msg_init(&m, TF_STUN_REQUEST, TF_STUN_METHOD_BINDING, tid);
    m.has = TF_STUN_HAS_USERNAME | TF_STUN_HAS_PRIORITY | TF_STUN_HAS_ICE_CONTROLLING |
            TF_STUN_HAS_MESSAGE_INTEGRITY | TF_STUN_HAS_FINGERPRINT | TF_STUN_HAS_USE_CANDIDATE;
    char user[2 * TF_SDP_ICE_LEN + 2];
    snprintf(user, sizeof(user), "%s:%s", p->srv_ufrag, p->ufrag);
    m.username = user;
    m.username_len = strlen(user);
    m.priority = 1853824767;
    m.ice_controlling = 0x1122334455667788ull ^ p->idx;
    size_t n = 0;
    if (tf_stun_marshal_to(&m, p->srv_key, out, sizeof(out), &n) == 0)
        udp_send(p, out, n);
    p->next_check = now + (p->ice_ok ? CHECK_CONSENT_US : CHECK_FAST_US);
}

static void dtls_flush(part_t *p)
{
    char *data = NULL;
    long n = BIO_get_mem_data(p->dtls.wbio, &data);
    if (n <= 0)
        return;
    size_t off = 0, len;
    while ((len = dtls_test_next_datagram((const uint8_t *)data, (size_t)n, &off, MTU)) > 0)
        udp_send(p, (const uint8_t *)data + off - len, len);
    (void)BIO_reset(p->dtls.wbio);
}

static void dtls_step(part_t *p, uint64_t now)
{
    if (dtls_test_client_handshake(&p->dtls)) {
        tf_srtp_profile_t prof;
        if (dtls_test_client_srtp(p->dtls.ssl, &prof, &p->srtp) < 0) {
            fail(p, "no SRTP keys from DTLS");
            return;
        }
        p->state = P_CONNECTED;
        p->t_connected = now;
        p->media_t0 = now;
        p->next_v = now;
        p->next_a = now;
        p->next_rtcp = now + SEC;
        p->next_twcc = now + 50 * MS;
    }
    if (p->dtls.failed)
        fail(p, "DTLS handshake failed");
    if (p->dtls.done)
        dtls_test_client_read(&p->dtls);
    ERR_clear_error();
    dtls_flush(p);
}

/* A full ICE agent (Janus's libnice, not Tafel) also checks from its side and wants a success
 * response (RFC 8445 §7.3) before it calls the pair valid: answered with our password, the
 * mapped address being the server's (it is the only peer). */
static void answer_check(part_t *p, const tf_stun_msg_t *req)
{
    tf_stun_key_t *key = NULL;
    if (req->method != TF_STUN_METHOD_BINDING ||
        tf_stun_key_create(&key, p->pwd, strlen(p->pwd)) < 0)
        return;
    if (tf_stun_check_integrity(req, key) == 0) {
        tf_stun_msg_t m;
        tf_stun_msg_init(&m, TF_STUN_SUCCESS, TF_STUN_METHOD_BINDING, req->tid);
        m.has = TF_STUN_HAS_XOR_MAPPED_ADDRESS | TF_STUN_HAS_MESSAGE_INTEGRITY |
                TF_STUN_HAS_FINGERPRINT;
        m.xor_mapped.family = TF_ADDR_V4;
        m.xor_mapped.port = ntohs(p->to.sin_port);
        memcpy(m.xor_mapped.ip, &p->to.sin_addr, 4);
        uint8_t out[256];
        size_t n = 0;
        if (tf_stun_marshal_to(&m, key, out, sizeof(out), &n) == 0)
            udp_send(p, out, n);
    }
    tf_stun_key_destroy(&key);
}

static void stun_in(part_t *p, const uint8_t *buf, size_t len, uint64_t now)
{
    tf_stun_msg_t m;
    if (tf_stun_parse(&m, buf, len, NULL, 0) < 0)
        return;
    if (m.cls == TF_STUN_REQUEST) {
        answer_check(p, &m);
        return;
    }
    if (m.cls != TF_STUN_SUCCESS)
        return;
    int known = -1;
    for (int i = 0; i < 8; i++)
        if (memcmp(m.tid, p->tid[i], TF_STUN_TID_LEN) == 0)
            known = i;
    if (known < 0 || tf_stun_check_integrity(&m, p->srv_key) < 0)
        return;
    /* The round trip of a consent check, as a browser knows it from RTCP: the video receive
     * stream spaces its NACK retries by it. */
    if (p->tid_at[known] && now > p->tid_at[known]) {
        int64_t rtt = (int64_t)(now - p->tid_at[known]);
        p->rtt_us = p->rtt_us ? p->rtt_us + (rtt - p->rtt_us) / 4 : rtt;
        if (p->rv)
            tf_recv_stream_set_rtt(p->rv, p->rtt_us);
        p->tid_at[known] = 0;
    }
    if (!p->ice_ok) {
        p->ice_ok = true;
        p->next_check = now + CHECK_CONSENT_US;
        if (p->state == P_ICE) {
            p->state = P_DTLS;
            dtls_step(p, now);
        }
    }
}

/* ---- sending media ------------------------------------------------------------------------ */

static void send_rtp(part_t *p, tf_rtp_packet_t *r, bool level, uint8_t dbov)
{
    uint8_t twcc[2], lvl[1], out[1600];
    if (p->ext_twcc) {
        tf_rtp_put_twcc_seq(twcc, p->twcc_up++);
        tf_rtp_ext_set(r, p->ext_twcc, twcc, 2);
    }
    if (level && p->ext_level) {
        tf_rtp_put_audio_level(lvl, dbov < 60, dbov);
        tf_rtp_ext_set(r, p->ext_level, lvl, 1);
    }
    int n = tf_rtp_marshal_to(r, out, sizeof(out) - TF_SRTP_MAX_RTP_OVERHEAD);
    size_t len = (size_t)n;
    if (n > 0 && tf_srtp_protect_rtp(p->srtp, out, &len, sizeof(out)) == 0)
        udp_send(p, out, len);
}

static void send_video_pkt(part_t *p, int k, uint16_t seq, uint32_t ts)
{
    const tf_clip_t *c = p->clip;
    tf_rtp_packet_t r;
    memset(&r, 0, sizeof(r));
    r.payload_type = 102;
    r.ssrc = p->v_ssrc;
    r.seq = seq;
    r.timestamp = ts;
    r.marker = c->pkt[k].marker;
    r.payload = c->vbytes + c->pkt[k].off;
    r.payload_len = c->pkt[k].len;
    send_rtp(p, &r, false, 0);
}

static void send_media(part_t *p, uint64_t now)
{
    lg_slot_times_t *times = &p->lg->slots[p->slot];
    if (now > p->next_v + SEC) /* the loop stalled: do not burst, skip ahead */
        p->next_v = now;
    if (now > p->next_a + SEC)
        p->next_a = now;
    while (now >= p->next_v) {
        if (p->restart_clip) {
            p->vframe = 0;
            p->restart_clip = false;
        }
        uint32_t ts = p->v_ts0 + (uint32_t)((p->next_v - p->media_t0) * 9 / 100);
        const tf_clip_t *c = p->clip;
        for (int k = c->vfirst[p->vframe]; k < c->vfirst[p->vframe + 1]; k++) {
            uint16_t seq = p->v_seq++;
            p->hist_seq[seq % LG_NACK_HIST] = seq;
            p->hist_pkt[seq % LG_NACK_HIST] = k;
            p->hist_ts[seq % LG_NACK_HIST] = ts;
            send_video_pkt(p, k, seq, ts);
            p->st.tx_video++;
        }
        times->vsent[p->vframe] = now;
        p->vframe = (p->vframe + 1) % TF_CLIP_V_FRAMES;
        p->next_v += FRAME_US;
    }
    while (now >= p->next_a) {
        const tf_clip_t *c = p->clip;
        /* A listener's microphone: the quiet frame after each burst instead of the burst. */
        bool talks = p->in_room < p->lg->talkers;
        int k = talks || p->aframe % TF_CLIP_BURST_EVERY >= TF_CLIP_BURST_LEN
                    ? p->aframe
                    : p->aframe + TF_CLIP_BURST_LEN;
        if (talks && p->aframe % TF_CLIP_BURST_EVERY == 0)
            times->aonset[p->aframe / TF_CLIP_BURST_EVERY] = now;
        tf_rtp_packet_t r;
        memset(&r, 0, sizeof(r));
        r.payload_type = 111;
        r.ssrc = p->a_ssrc;
        r.seq = p->a_seq++;
        r.timestamp = p->a_ts0 + (uint32_t)((p->next_a - p->media_t0) * 48 / 1000);
        r.payload = c->apay[k];
        r.payload_len = c->alen[k];
        send_rtp(p, &r, true, c->alevel[k]);
        p->st.tx_audio++;
        p->aframe = (p->aframe + 1) % TF_CLIP_A_FRAMES;
        p->next_a += AFRAME_US;
    }
}

/* ---- RTCP --------------------------------------------------------------------------------- */

static void send_rtcp(part_t *p, uint8_t *buf, size_t n)
{
    uint8_t out[1600];
    if (n > sizeof(out) - TF_SRTP_MAX_RTCP_OVERHEAD)
        return;
    memcpy(out, buf, n);
    size_t len = n;
    if (tf_srtp_protect_rtcp(p->srtp, out, &len, sizeof(out)) == 0)
        udp_send(p, out, len);
}

static void rtcp_in(part_t *p, const uint8_t *buf, size_t len, uint64_t now)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t pk;
    if (tf_rtcp_iter_init(&it, buf, len) < 0)
        return;
    while (tf_rtcp_iter_next(&it, &pk) == 1) {
        if (pk.type == TF_RTCP_SR) {
            if (pk.sr.ssrc == p->srv_v_ssrc)
                tf_recv_stream_on_sr(p->rv, (int64_t)now, &pk.sr);
            else if (pk.sr.ssrc == p->srv_a_ssrc)
                tf_recv_stream_on_sr(p->ra, (int64_t)now, &pk.sr);
        } else if (pk.type == TF_RTCP_PLI && pk.pli.media_ssrc == p->v_ssrc) {
            p->st.plis_in++;
            p->restart_clip = true;
        } else if (pk.type == TF_RTCP_FIR) {
            p->st.plis_in++;
            p->restart_clip = true;
        } else if (pk.type == TF_RTCP_NACK && pk.nack.media_ssrc == p->v_ssrc) {
            uint16_t lost[256];
            int n = tf_rtcp_nack_lost(&pk.nack, lost, 256);
            for (int i = 0; i < n; i++) {
                p->st.nacks_in++;
                int slot = lost[i] % LG_NACK_HIST;
                if (p->hist_seq[slot] == lost[i] && p->hist_pkt[slot] >= 0) {
                    /* a plain retransmission: same SSRC, seq and timestamp */
                    send_video_pkt(p, p->hist_pkt[slot], lost[i], p->hist_ts[slot]);
                    p->st.retransmits++;
                }
            }
        }
    }
}

static void send_feedback(part_t *p, uint64_t now)
{
    uint8_t out[1500];
    tf_recv_feedback_t fb;
    while (tf_recv_stream_poll_feedback(p->rv, (int64_t)now, &fb) == 0) {
        if (fb.nack_count) {
            int n = tf_rtcp_nack_build_to(p->v_ssrc, p->srv_v_ssrc, fb.nack, fb.nack_count, out,
                                          sizeof(out));
            if (n > 0) {
                send_rtcp(p, out, (size_t)n);
                p->st.nacks += fb.nack_count;
            }
        }
        if (fb.pli) {
            tf_rtcp_packet_t pli = {.type = TF_RTCP_PLI};
            pli.pli.sender_ssrc = p->v_ssrc;
            pli.pli.media_ssrc = p->srv_v_ssrc;
            int n = tf_rtcp_marshal_to(&pli, out, sizeof(out));
            if (n > 0) {
                send_rtcp(p, out, (size_t)n);
                p->st.plis++;
            }
        }
    }
    if (now >= p->next_rtcp) {
        tf_rtcp_packet_t rr = {.type = TF_RTCP_RR};
        rr.rr.ssrc = p->v_ssrc;
        if (tf_recv_stream_report_block(p->rv, (int64_t)now, &rr.rr.rb[rr.rr.rb_count]) == 0)
            rr.rr.rb_count++;
        if (tf_recv_stream_report_block(p->ra, (int64_t)now, &rr.rr.rb[rr.rr.rb_count]) == 0)
            rr.rr.rb_count++;
        int n = tf_rtcp_marshal_to(&rr, out, sizeof(out));
        if (n > 0)
            send_rtcp(p, out, (size_t)n);
        p->next_rtcp = now + SEC;
    }
    if (now >= p->next_twcc && p->n_twcc > 0) {
        /* transport-cc: statuses from the oldest to the newest sequence number seen */
        static tf_rtcp_twcc_status_t st[LG_TWCC_MAX];
        static uint64_t at[LG_TWCC_MAX];
        uint16_t base = p->twcc_seq[0];
        int span = 0;
        for (int i = 0; i < p->n_twcc; i++) {
            int d = (int16_t)(uint16_t)(p->twcc_seq[i] - base);
            if (d < 0) {
                base = p->twcc_seq[i];
                i = -1; /* restart with the older base */
                span = 0;
                continue;
            }
            span = d + 1 > span ? d + 1 : span;
        }
        if (span <= LG_TWCC_MAX) {
            memset(at, 0, sizeof(at[0]) * (size_t)span);
            for (int i = 0; i < p->n_twcc; i++)
                at[(uint16_t)(p->twcc_seq[i] - base)] = p->twcc_at[i];
            uint64_t first = 0;
            for (int i = 0; i < span && !first; i++)
                first = at[i];
            uint64_t ref = first / 64000, prev = ref * 64000;
            for (int i = 0; i < span; i++) {
                p->st.twcc_reported++;
                p->st.twcc_missing += at[i] == 0;
                st[i].seq = (uint16_t)(base + i);
                st[i].received = at[i] != 0;
                st[i].delta_us = at[i] ? (int32_t)((int64_t)at[i] - (int64_t)prev) : 0;
                if (at[i])
                    prev = at[i];
            }
            tf_rtcp_twcc_t hdr = {.sender_ssrc = p->v_ssrc,
                                  .media_ssrc = p->srv_v_ssrc,
                                  .base_seq = base,
                                  .status_count = (uint16_t)span,
                                  .ref_time = (uint32_t)(ref & 0xFFFFFF),
                                  .fb_count = p->twcc_fb_count++};
            int n = tf_rtcp_twcc_build_to(&hdr, st, (size_t)span, out, sizeof(out));
            if (n > 0)
                send_rtcp(p, out, (size_t)n);
        }
        p->twcc_next = (uint16_t)(base + span);
        p->twcc_started = true;
        p->n_twcc = 0;
        p->next_twcc = now + 50 * MS;
    }
}

/* ---- receiving media ---------------------------------------------------------------------- */

static void read_stamps(part_t *p, const tf_frame_t *f, uint64_t arrival)
{
    lg_t *lg = p->lg;
    if (f->width != p->canvas_w || f->height != p->canvas_h)
        return; /* the layout of another tier: wait for its metadata */
    for (int i = 0; i < p->n_tiles; i++) {
        unsigned slot, frame;
        int e = tf_stamp_read(f, &p->tile[i], &slot, &frame);
        if (e == -EBADMSG)
            p->st.stamp_misses++;
        if (e < 0 || slot >= LG_MAX_SLOTS)
            continue;
        p->st.stamps_read++;
        uint32_t key = (uint32_t)(slot << 8 | frame) + 1;
        if (p->tile_last[i] == key)
            continue; /* the same source frame again: latency counts its first showing */
        p->tile_last[i] = key;
        const lg_slot_times_t *t = &lg->slots[slot];
        if (t->member && t->member != p->tile_id[i])
            p->st.stamp_wrong_tile++;
        uint64_t sent = t->vsent[frame];
        if (sent && sent <= arrival && arrival - sent < 4 * SEC)
            lg_lat_add(&lg->video_lat, (double)(arrival - sent) / 1000.0);
    }
}

static void video_frame(part_t *p, const tf_recv_frame_t *fr, uint64_t now)
{
    p->st.frames++;
    if (!p->t_first_frame)
        p->t_first_frame = now;
    /* late: its arrival minus its media time is LATE_US over the best seen */
    int64_t delay = (int64_t)fr->arrival_us - (int64_t)((uint64_t)fr->timestamp * 100 / 9);
    if (p->delay_known) {
        int64_t d = delay - p->delay_min_us;
        /* 32-bit RTP time wraps every 13 h at 90 kHz: a jump of hours restarts the reference */
        if (d < -3600 * (int64_t)SEC || d > 3600 * (int64_t)SEC)
            p->delay_min_us = delay;
        else if (d < 0)
            p->delay_min_us = delay;
        else if (d > (int64_t)LATE_US)
            p->st.late_frames++;
    } else {
        p->delay_known = true;
        p->delay_min_us = delay;
    }
    /* times come from the kernel or from the loop's clock: compare, never subtract first */
    if (p->last_frame_at && now > p->last_frame_at + FREEZE_US) {
        p->st.freezes++;
        p->st.freeze_us += now - p->last_frame_at;
        if (p->n_freeze_log < 16) {
            p->freeze_from[p->n_freeze_log] = p->last_frame_at;
            p->freeze_to[p->n_freeze_log++] = now;
        }
    }
    if (now > p->last_frame_at)
        p->last_frame_at = now;
    if (!p->decode)
        return;
    tf_frame_t *f = NULL;
    int e = tf_vdec_decode(p->vdec, fr->data, fr->size, (int64_t)fr->timestamp, &f);
    if (e == -EINVAL || e == -EPROTO) {
        p->st.decode_errors++;
        tf_recv_stream_request_keyframe(p->rv);
    }
    if (f) {
        p->st.frames_decoded++;
        read_stamps(p, f, fr->arrival_us);
        tf_frame_unref(&f);
    }
}

static void audio_frame(part_t *p, const tf_recv_frame_t *fr)
{
    /* As a browser's NetEq repairs: the packet right before this one is rebuilt from this
     * one's in-band FEC when it carries some (audio_rx.c), earlier lost ones are concealed. */
    lg_audio_count_t c = {0, 0, 0};
    int fec = lg_audio_count_packet(&c, fr->data, fr->size, fr->lost_before);
    p->st.audio_frames += c.intact;
    p->st.audio_fec += c.rebuilt;
    p->st.audio_concealed += c.concealed;
    p->st.audio_with_fec += fec || lg_opus_has_fec(fr->data, fr->size) == 1;
    if (!p->decode)
        return;
    float pcm[5760];
    int lost_n = fr->samples >= 480 && fr->samples <= 2880 ? (int)fr->samples : TF_TONE_FRAME;
    for (uint32_t i = 0; i < c.concealed && i < 5; i++)
        tf_opus_dec_decode(p->adec, NULL, 0, 0, pcm, lost_n);
    if (fec)
        tf_opus_dec_decode(p->adec, fr->data, fr->size, 1, pcm, lost_n);
    int n = tf_opus_dec_decode(p->adec, fr->data, fr->size, 0, pcm, 5760);
    if (n < TF_TONE_FRAME)
        return;
    lg_t *lg = p->lg;
    int base = p->slot - p->in_room;
    /* Each receiver listens for the 8 senders after it in the room (mix-minus: never itself);
     * together the receivers of a room cover every sender at a quarter of the cost of all. */
    for (int d = 1; d <= 8 && d < lg->participants; d++) {
        int j = (p->in_room + d) % lg->participants;
        if (j >= 64)
            continue;
        double amp = tone_meter_amplitude(pcm, TF_TONE_FRAME, tf_tone_hz((unsigned)(base + j)));
        if (amp > 0.02 && p->tone_quiet[j] >= 5) {
            /* an onset: the newest burst of that sender sent before this packet arrived */
            const lg_slot_times_t *t = &lg->slots[base + j];
            uint64_t best = 0;
            for (int b = 0; b < TF_CLIP_A_FRAMES / TF_CLIP_BURST_EVERY; b++)
                if (t->aonset[b] && t->aonset[b] <= (uint64_t)fr->arrival_us && t->aonset[b] > best)
                    best = t->aonset[b];
            if (best && (uint64_t)fr->arrival_us - best < 1500 * MS)
                lg_lat_add(&lg->audio_lat, (double)((uint64_t)fr->arrival_us - best) / 1000.0);
            p->tone_quiet[j] = 0;
        } else if (amp < 0.008) {
            p->tone_quiet[j]++;
        } else if (amp > 0.02) {
            p->tone_quiet[j] = 0;
        }
    }
}

static void rtp_in(part_t *p, const uint8_t *buf, size_t len, uint64_t now)
{
    tf_rtp_packet_t r;
    if (tf_rtp_parse(&r, buf, len) < 0)
        return;
    p->st.rx_bytes += len;
    p->sec_bytes += len;
    uint16_t tseq;
    if (p->ext_twcc && tf_rtp_get_twcc_seq(&r, p->ext_twcc, &tseq) == 0 &&
        p->n_twcc < LG_TWCC_MAX) {
        if (p->twcc_started && (int16_t)(uint16_t)(tseq - p->twcc_next) < 0)
            p->st.twcc_late++; /* already reported as missing */
        p->twcc_seq[p->n_twcc] = tseq;
        p->twcc_at[p->n_twcc++] = now;
    }
    tf_recv_frame_t fr;
    if (r.ssrc == p->srv_v_ssrc || (p->srv_v_rtx_ssrc && r.ssrc == p->srv_v_rtx_ssrc)) {
        p->st.rx_video_bytes += len;
        if (p->srv_v_rtx_ssrc && r.ssrc == p->srv_v_rtx_ssrc) {
            /* RFC 4588: a retransmission (OSN + original payload, unwrapped by recv_stream) or
             * padding only, a bandwidth probe (its transport-cc seq was recorded above) */
            if (r.payload_len < 2)
                p->st.rtx_padding++;
            else
                p->st.rtx_in++;
        }
        tf_recv_stream_push(p->rv, (int64_t)now, buf, len);
        while (tf_recv_stream_poll_frame(p->rv, &fr) == 0)
            video_frame(p, &fr, now);
    } else if (r.ssrc == p->srv_a_ssrc) {
        tf_recv_stream_push(p->ra, (int64_t)now, buf, len);
        while (tf_recv_stream_poll_frame(p->ra, &fr) == 0)
            audio_frame(p, &fr);
    }
}

static void datagram_in(part_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    if (len == 0 || p->state < P_ICE || p->state > P_CONNECTED)
        return;
    if (buf[0] <= 3) {
        stun_in(p, buf, len, now);
    } else if (buf[0] >= 20 && buf[0] <= 63) {
        if (p->state >= P_DTLS && BIO_write(p->dtls.rbio, buf, (int)len) == (int)len)
            dtls_step(p, now);
    } else if (buf[0] >= 128 && buf[0] <= 191 && p->srtp) {
        bool rtcp = tf_rtp_is_rtcp(buf, len);
        if (!rtcp && p->on_rtp && len >= 12) {
            /* Janus subscriber PCs: only the first feed's streams are decrypted and
             * depacketized; the others are counted from their clear RTP header (SRTP size), so
             * the generator's AES does not bound what a 30-member room can forward. */
            uint32_t ssrc =
                (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11];
            if (ssrc != p->srv_a_ssrc && ssrc != p->srv_v_ssrc && ssrc != p->srv_v_rtx_ssrc) {
                p->st.rx_bytes += len;
                p->sec_bytes += len;
                p->on_rtp(p, buf, len);
                return;
            }
        }
        if (rtcp ? tf_srtp_unprotect_rtcp(p->srtp, buf, &len) < 0
                 : tf_srtp_unprotect_rtp(p->srtp, buf, &len) < 0)
            return;
        if (rtcp)
            rtcp_in(p, buf, len, now);
        else
            rtp_in(p, buf, len, now);
        if (!rtcp && p->on_rtp)
            p->on_rtp(p, buf, len);
    }
}

/* Reads every queued datagram. Its time is the kernel's receive timestamp, so a loop that was
 * late to read (a busy generator) does not show up as network delay in transport-cc feedback,
 * frame arrival times or latencies. */
static void on_readable(uv_poll_t *h, int status, int events)
{
    (void)events;
    part_t *p = h->data;
    if (status < 0)
        return;
    /* A few datagrams per socket and loop turn: the loop's timers (sending at real-time pace)
     * must not wait behind a long backlog of every socket's input. */
    for (int k = 0; k < 16; k++) {
        char ctrl[CMSG_SPACE(sizeof(struct timespec))];
        struct iovec iov = {rx_buf, sizeof(rx_buf)};
        struct msghdr m = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
        ssize_t n = recvmsg(p->fd, &m, MSG_DONTWAIT);
        if (n < 0)
            return;
        uint64_t now = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof(ts));
                now = lg_from_realtime(p->lg, &ts);
            }
        uint64_t mono = lg_now();
        if (!now || now > mono)
            now = mono;
        datagram_in(p, rx_buf, (size_t)n, now);
        if (!p->poll_open || p->state > P_CONNECTED)
            return;
    }
}

/* ---- signalling ---------------------------------------------------------------------------- */

static void on_ws_text(lg_http_t *h, const char *text, size_t len, void *arg)
{
    (void)h;
    part_t *p = arg;
    tf_load_event_t ev;
    if (tf_load_event_parse(text, len, &ev) < 0)
        return;
    if (ev.kind == TF_LOAD_EV_WELCOME) {
        p->member = ev.member;
        p->lg->slots[p->slot].member = ev.member;
    } else if (ev.kind == TF_LOAD_EV_LAYOUT) {
        p->canvas_w = ev.width;
        p->canvas_h = ev.height;
        p->n_tiles = ev.n_tiles;
        memcpy(p->tile_id, ev.tile_id, sizeof(ev.tile_id));
        memcpy(p->tile, ev.tile, sizeof(ev.tile));
        memset(p->tile_last, 0, sizeof(p->tile_last));
    }
    if (ev.kind == TF_LOAD_EV_UPLINK) {
        /* like a browser's setParameters: the largest clip fitting the budget, from its IDR */
        int size = tf_clip_size_for(ev.width, ev.height, ev.kbps);
        p->uplink_w = ev.width;
        p->uplink_h = ev.height;
        p->uplink_kbps = ev.kbps;
        const tf_clip_t *c = p->lg->clips[p->slot][size];
        if (c && c != p->clip) {
            p->clip = c;
            p->restart_clip = true;
            p->uplink_switches++;
            memset(p->hist_pkt, 0xff, sizeof(p->hist_pkt)); /* NACKs cannot reach the old clip */
        }
    }
    if (ev.kind == TF_LOAD_EV_TIER) {
        p->estimate_kbps = ev.estimate_kbps;
        snprintf(p->tier_reason, sizeof(p->tier_reason), "%s", ev.reason);
    }
    if ((ev.kind == TF_LOAD_EV_LAYOUT || ev.kind == TF_LOAD_EV_TIER) && strcmp(ev.tier, p->tier)) {
        if (p->tier[0])
            p->st.tier_changes++;
        snprintf(p->tier, sizeof(p->tier), "%s", ev.tier);
        if (p->n_tier < 16) {
            p->tier_at[p->n_tier] = lg_now();
            p->tier_rank[p->n_tier++] = tf_load_tier_rank(ev.tier);
        }
    }
}

static void on_ws_closed(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    (void)r;
    part_t *p = arg;
    p->ws = NULL;
}

static void on_whip(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    part_t *p = arg;
    if (p->state != P_JOINING)
        return;
    if (!r || r->status != 201) {
        char why[96];
        snprintf(why, sizeof(why), "WHIP POST: %s %d", r ? "status" : "no response",
                 r ? r->status : 0);
        p->lg->join_failures++;
        fail(p, why);
        return;
    }
    snprintf(p->location, sizeof(p->location), "%s", r->location);
    const char *slash = strrchr(p->location, '/');
    snprintf(p->session, sizeof(p->session), "%s", slash ? slash + 1 : "");
    if (!p->session[0] || lg_take_answer(p, r->body, r->body_len) < 0) {
        p->lg->join_failures++;
        fail(p, "WHIP answer unusable");
        return;
    }
    p->state = P_ICE;
    p->t_ice = lg_now();
    send_check(p, p->t_ice);
    p->ws = lg_ws_open(p->lg, p->session, on_ws_text, on_ws_closed, p);
}

static int build_offer(part_t *p, char *out, size_t cap, int port)
{
    return snprintf(
        out, cap,
        "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "a=msid-semantic: WMS lg\r\n"
        "m=audio %d UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\n"
        "a=candidate:1 1 udp 2122260223 127.0.0.1 %d typ host\r\n"
        "a=end-of-candidates\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:0\r\n"
        "a=extmap:1 " URI_LEVEL "\r\na=extmap:3 " URI_TWCC "\r\n"
        "a=sendrecv\r\na=msid:lg a%d\r\na=rtcp-mux\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:%u cname:lg%d\r\n"
        "m=video %d UDP/TLS/RTP/SAVPF 102 103\r\nc=IN IP4 127.0.0.1\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:1\r\n"
        "a=extmap:3 " URI_TWCC "\r\n"
        "a=sendrecv\r\na=msid:lg v%d\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 goog-remb\r\na=rtcp-fb:102 transport-cc\r\n"
        "a=rtcp-fb:102 ccm fir\r\na=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
        "a=ssrc-group:FID %u %u\r\na=ssrc:%u cname:lg%d\r\na=ssrc:%u cname:lg%d\r\n",
        rand_u32() >> 1, port, port, p->ufrag, p->pwd, p->dtls.fingerprint, p->idx, p->a_ssrc,
        p->idx, port, p->ufrag, p->pwd, p->dtls.fingerprint, p->idx, p->v_ssrc, p->v_ssrc + 1,
        p->v_ssrc, p->idx, p->v_ssrc + 1, p->idx);
}

int lg_part_open(part_t *p, int *port)
{
    lg_t *lg = p->lg;
    p->clip = lg->clips[p->slot][0];
    p->estimate_kbps = -1;
    rand_text(p->ufrag, 8);
    rand_text(p->pwd, 24);
    p->a_ssrc = rand_u32();
    p->v_ssrc = rand_u32() & ~1u;
    p->a_ts0 = rand_u32();
    p->v_ts0 = rand_u32();
    p->v_seq = (uint16_t)rand_u32();
    p->a_seq = (uint16_t)rand_u32();
    for (int i = 0; i < LG_NACK_HIST; i++)
        p->hist_pkt[i] = -1;
    dtls_test_client_opts_t o = {
        .cn = "tafel-load", .initial_rto_us = 200 * MS, .max_rto_us = 2 * SEC, .mtu = MTU};
    if (dtls_test_client_init(&p->dtls, &o) < 0)
        return -ENOMEM;
    p->dtls_init = true;
    if ((p->decode &&
         (tf_vdec_create(&p->vdec, TF_VCODEC_H264) < 0 || tf_opus_dec_create(&p->adec, 1) < 0)))
        return -ENOMEM;
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0)
        return -errno;
    struct sockaddr_in any;
    uv_ip4_addr(lg->local_ip[0] ? lg->local_ip : "127.0.0.1", 0, &any);
    struct sockaddr_in me;
    socklen_t mlen = sizeof(me);
    int one = 1, rcv = 1 << 20;
    setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
        bind(p->fd, (const struct sockaddr *)&any, sizeof(any)) < 0 ||
        getsockname(p->fd, (struct sockaddr *)&me, &mlen) < 0 ||
        uv_poll_init(lg->loop, &p->poll, p->fd) < 0)
        return -EIO;
    p->poll.data = p;
    p->poll_open = true;
    if (uv_poll_start(&p->poll, UV_READABLE, on_readable) < 0)
        return -EIO;
    *port = ntohs(me.sin_port);
    p->t_join = lg_now();
    return 0;
}

int part_join(part_t *p)
{
    lg_t *lg = p->lg;
    int port = 0, e = lg_part_open(p, &port);
    if (e < 0)
        return e;
    p->to = p->relayed ? lg->relay : lg->media;
    char offer[4096], path[160];
    int n = build_offer(p, offer, sizeof(offer), port);
    if (n < 0 || (size_t)n >= sizeof(offer))
        return -ENOBUFS;
    snprintf(path, sizeof(path), "/whip/%s%d?name=p%d", lg->room_prefix, p->room, p->idx);
    p->state = P_JOINING;
    p->t_join = lg_now();
    return lg_http_request(lg, "POST", path, "application/sdp", offer, (size_t)n, on_whip, p);
}

static void on_deleted(lg_http_t *h, const tf_load_http_resp_t *r, void *arg)
{
    (void)h;
    (void)r;
    part_t *p = arg;
    p->state = P_DONE;
}

void part_leave(part_t *p)
{
    lg_ws_close(&p->ws);
    if (p->poll_open)
        uv_poll_stop(&p->poll);
    if (p->location[0] &&
        lg_http_request(p->lg, "DELETE", p->location, NULL, NULL, 0, on_deleted, p) == 0) {
        p->state = P_LEAVING;
        return;
    }
    p->state = P_DONE;
}

void part_tick(part_t *p, uint64_t now)
{
    if (p->state == P_ICE || p->state == P_DTLS) {
        if (now - p->t_join > CONNECT_LIMIT_US) {
            fail(p, p->state == P_ICE ? "no ICE answer" : "DTLS timed out");
            return;
        }
    }
    if (p->state >= P_ICE && p->state <= P_CONNECTED && now >= p->next_check)
        send_check(p, now);
    if (p->state == P_DTLS) {
        struct timeval tv;
        if (DTLSv1_get_timeout(p->dtls.ssl, &tv) && tv.tv_sec == 0 && tv.tv_usec == 0) {
            DTLSv1_handle_timeout(p->dtls.ssl);
            ERR_clear_error();
            dtls_flush(p);
        }
    }
    if (p->state != P_CONNECTED)
        return;
    if (!p->recv_only)
        send_media(p, now);
    if (!p->rv)
        return; /* a Janus publisher receives nothing */
    tf_recv_frame_t fr;
    tf_recv_stream_handle_timeout(p->rv, (int64_t)now);
    tf_recv_stats_t vs;
    tf_recv_stream_get_stats(p->rv, &vs);
    p->st.rtx_recovered = vs.recovered; /* gaps filled after they were NACKed or seen */
    p->st.v_given_up = vs.given_up;
    p->st.v_frames_dropped = vs.frames_dropped;
    while (tf_recv_stream_poll_frame(p->rv, &fr) == 0)
        video_frame(p, &fr, now);
    tf_recv_stream_handle_timeout(p->ra, (int64_t)now);
    while (tf_recv_stream_poll_frame(p->ra, &fr) == 0)
        audio_frame(p, &fr);
    send_feedback(p, now);
}

static void on_poll_closed(uv_handle_t *h)
{
    part_t *p = h->data;
    close(p->fd);
    p->fd = -1;
}

void part_free(part_t *p)
{
    lg_ws_close(&p->ws);
    tf_recv_stream_destroy(&p->rv);
    tf_recv_stream_destroy(&p->ra);
    tf_vdec_destroy(&p->vdec);
    tf_opus_dec_destroy(&p->adec);
    tf_srtp_destroy(&p->srtp);
    tf_stun_key_destroy(&p->srv_key);
    if (p->dtls_init)
        dtls_test_client_free(&p->dtls);
    p->dtls_init = false;
    if (p->poll_open && !uv_is_closing((uv_handle_t *)&p->poll))
        uv_close((uv_handle_t *)&p->poll, on_poll_closed); /* closes the socket after */
    else if (p->fd >= 0)
        close(p->fd);
    p->poll_open = false;
}

void lg_part_start_ice(part_t *p, uint64_t now)
{
    p->state = P_ICE;
    p->t_ice = now;
    send_check(p, now);
}
