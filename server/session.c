/* session.c — one WHIP session: owns its tf_peer (ICE-lite, DTLS, SRTP), registers its
 * validated addresses with the UDP demux, keeps its timer at the peer's next deadline, and for
 * echo rooms returns the browser's own media to it (an RTP translator: SSRC rewrite, feedback
 * mapped back to the sender). Room mixing is not here; the room WebSocket is session_ws.c. */
#include "server/session.h"
#include "server/session_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "server/log.h"
#include "server/moderate.h"
#include "server/rtc/peer.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"

#define RTCP_INTERVAL_US 1000000

static uint64_t ntp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
    return (sec << 32) | (((uint64_t)ts.tv_nsec << 32) / 1000000000ull);
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    while (v == 0)
        tf_server_random((uint8_t *)&v, sizeof(v));
    return v;
}

static void random_text(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t rnd[64];
    tf_server_random(rnd, n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[rnd[i] % 62]; /* 256 % 62 bias is irrelevant for identifiers */
    out[n] = '\0';
}

static void link_session(tf_server_t *srv, tf_session_t *s)
{
    s->next = srv->sessions;
    if (srv->sessions)
        srv->sessions->prev = s;
    srv->sessions = s;
    srv->n_sessions++;
}

static void unlink_session(tf_server_t *srv, tf_session_t *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
    srv->n_sessions--;
}

static void on_timer(uv_timer_t *t);

static void flush_transmits(tf_session_t *s)
{
    tf_peer_transmit_t tx;
    while (tf_peer_poll_transmit(s->peer, &tx) == 0)
        tf_server_send(s->srv, &tx.dest, tx.data, tx.len);
}

static void arm_timer(tf_session_t *s)
{
    if (s->closing)
        return;
    uint64_t now = tf_server_now_us(s->srv), due = tf_peer_poll_timeout(s->peer);
    if (s->connected && !s->mixing && s->next_rtcp_us < due)
        due = s->next_rtcp_us; /* echo rooms report themselves; the room engine does it else */
    uint64_t ms = due == UINT64_MAX ? 60000 : due > now ? (due - now + 999) / 1000 : 0;
    uv_timer_start(&s->timer, on_timer, ms, 0);
}

static void handle_events(tf_session_t *s)
{
    tf_peer_event_t ev;
    while (!s->closing && tf_peer_poll_event(s->peer, &ev) == 0) {
        switch (ev.kind) {
        case TF_PEER_EVENT_VALIDATED:
            if (s->n_addrs == TF_PEER_MAX_VALIDATED) {
                tf_addr_map_del(&s->srv->by_addr, &s->addrs[0], s);
                memmove(s->addrs, s->addrs + 1, sizeof(s->addrs[0]) * (TF_PEER_MAX_VALIDATED - 1));
                s->n_addrs--;
            }
            s->addrs[s->n_addrs++] = ev.addr;
            tf_addr_map_put(&s->srv->by_addr, &ev.addr, s);
            break;
        case TF_PEER_EVENT_SELECTED:
            tf_log(TF_LOG_DEBUG, "session %s: path selected", s->id);
            break;
        case TF_PEER_EVENT_CONNECTED:
            s->connected = 1;
            s->connected_us = tf_server_now_us(s->srv);
            s->next_rtcp_us = s->connected_us + RTCP_INTERVAL_US / 2;
            tf_log(TF_LOG_INFO, "session %s in %s: connected after %llu ms", s->id,
                   tf_log_room(s->room),
                   (unsigned long long)(s->connected_us - s->created_us) / 1000);
            break;
        case TF_PEER_EVENT_CLOSED:
            tf_session_close(s, ev.reason);
            return;
        }
    }
}

static track_t *track_by_pt(tf_session_t *s, int pt, int *is_rtx)
{
    for (int i = 0; i < s->n_tracks; i++) {
        if (s->track[i].pt == pt) {
            *is_rtx = 0;
            return &s->track[i];
        }
        if (s->track[i].rtx_pt == pt) {
            *is_rtx = 1;
            return &s->track[i];
        }
    }
    return NULL;
}

static track_t *track_by_out_ssrc(tf_session_t *s, uint32_t ssrc)
{
    for (int i = 0; i < s->n_tracks; i++)
        if (s->track[i].out_ssrc == ssrc && ssrc)
            return &s->track[i];
    return NULL;
}

static void send_protected(tf_session_t *s, uint8_t *buf, size_t len, size_t cap, int rtcp)
{
    tf_addr_t to;
    if (tf_peer_remote(s->peer, &to) < 0)
        return;
    int e = rtcp ? tf_peer_protect_rtcp(s->peer, buf, &len, cap)
                 : tf_peer_protect_rtp(s->peer, buf, &len, cap);
    if (e < 0)
        return;
    if (rtcp)
        s->rtcp_out++;
    else {
        s->rtp_out++;
        s->bytes_out += len;
    }
    tf_server_send(s->srv, &to, buf, len);
}

/* Echo: the browser's packet goes back to it on our SSRC for the same media section. */
static void on_rtp(tf_session_t *s, uint8_t *buf, size_t len, size_t cap)
{
    tf_rtp_packet_t p;
    if (tf_rtp_parse(&p, buf, len) < 0) {
        s->bad_in++;
        return;
    }
    s->rtp_in++;
    s->bytes_in += len;
    int is_rtx = 0;
    track_t *t = track_by_pt(s, p.payload_type, &is_rtx);
    if (!t || !t->out_ssrc)
        return; /* a payload type we did not answer, or a section we only receive */
    uint64_t now = tf_server_now_us(s->srv);
    if (is_rtx) {
        t->in_rtx_ssrc = p.ssrc;
        if (!t->out_rtx_ssrc)
            return;
        tf_rtp_rewrite_ssrc(buf, len, t->out_rtx_ssrc);
    } else {
        if (t->in_ssrc != p.ssrc) { /* a new (or first) source: restart its statistics */
            memset(&t->unwrap, 0, sizeof(t->unwrap));
            t->in_ssrc = p.ssrc;
            t->received = t->expected_prior = t->received_prior = 0;
            t->base_ext = t->max_ext = tf_rtp_seq_unwrap(&t->unwrap, p.seq);
        }
        int64_t ext = tf_rtp_seq_unwrap(&t->unwrap, p.seq);
        if (ext > t->max_ext)
            t->max_ext = ext;
        t->received++;
        t->sent_packets++;
        t->sent_octets += p.payload_len;
        t->last_rtp_ts = p.timestamp;
        t->last_rtp_at_us = now;
        tf_rtp_rewrite_ssrc(buf, len, t->out_ssrc);
    }
    send_protected(s, buf, len, cap, 0);
}

/* Feedback about our echo stream is feedback about the browser's own stream: map it back. */
static void on_rtcp(tf_session_t *s, const uint8_t *buf, size_t len)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t pkt;
    if (tf_rtcp_iter_init(&it, buf, len) < 0) {
        s->bad_in++;
        return;
    }
    s->rtcp_in++;
    uint8_t out[1500];
    uint64_t now = tf_server_now_us(s->srv);
    uint32_t now_mid = tf_rtcp_ntp_compact(ntp_now());
    while (tf_rtcp_iter_next(&it, &pkt) == 1) {
        switch (pkt.type) {
        case TF_RTCP_SR:
            for (int i = 0; i < s->n_tracks; i++) {
                if (s->track[i].in_ssrc == pkt.sr.ssrc) {
                    s->track[i].lsr = tf_rtcp_ntp_compact(pkt.sr.ntp);
                    s->track[i].lsr_at_us = now;
                }
            }
            /* fall through: an SR carries report blocks too */
            for (int i = 0; i < pkt.sr.rb_count; i++) {
                const tf_rtcp_report_block_t *rb = &pkt.sr.rb[i];
                if (track_by_out_ssrc(s, rb->ssrc) && rb->lsr)
                    s->rtt_ms = (int)((uint64_t)(uint32_t)(now_mid - rb->lsr - rb->dlsr) * 1000 >> 16);
            }
            break;
        case TF_RTCP_RR:
            for (int i = 0; i < pkt.rr.rb_count; i++) {
                const tf_rtcp_report_block_t *rb = &pkt.rr.rb[i];
                if (track_by_out_ssrc(s, rb->ssrc) && rb->lsr)
                    s->rtt_ms = (int)((uint64_t)(uint32_t)(now_mid - rb->lsr - rb->dlsr) * 1000 >> 16);
            }
            break;
        case TF_RTCP_NACK: {
            track_t *t = track_by_out_ssrc(s, pkt.nack.media_ssrc);
            uint16_t lost[256];
            int n = t && t->in_ssrc ? tf_rtcp_nack_lost(&pkt.nack, lost, 256) : -1;
            if (n <= 0)
                break;
            int w = tf_rtcp_nack_build_to(s->rtcp_ssrc, t->in_ssrc, lost, (size_t)n, out,
                                          sizeof(out) - TF_SRTP_MAX_RTCP_OVERHEAD);
            if (w > 0) {
                s->nacks_relayed++;
                send_protected(s, out, (size_t)w, sizeof(out), 1);
            }
            break;
        }
        case TF_RTCP_PLI:
        case TF_RTCP_FIR: {
            uint32_t media = pkt.type == TF_RTCP_PLI ? pkt.pli.media_ssrc
                                                     : tf_rtcp_fir_entry(&pkt.fir, 0).ssrc;
            track_t *t = track_by_out_ssrc(s, media);
            if (!t || !t->in_ssrc)
                break;
            tf_rtcp_packet_t pli = {.type = TF_RTCP_PLI};
            pli.pli.sender_ssrc = s->rtcp_ssrc;
            pli.pli.media_ssrc = t->in_ssrc;
            int w = tf_rtcp_marshal_to(&pli, out, sizeof(out) - TF_SRTP_MAX_RTCP_OVERHEAD);
            if (w > 0) {
                s->plis_relayed++;
                send_protected(s, out, (size_t)w, sizeof(out), 1);
            }
            break;
        }
        default:
            break; /* REMB, transport-cc, SDES, BYE: nothing to do in an echo */
        }
    }
}

/* Our SRs for the echoed streams and RRs for the browser's, once a second. */
static void send_reports(tf_session_t *s, uint64_t now)
{
    tf_rtcp_packet_t pk[TF_SDP_MAX_MEDIA + 1];
    size_t n = 0;
    uint64_t ntp = ntp_now();
    tf_rtcp_packet_t *rr = &pk[n++];
    memset(rr, 0, sizeof(*rr));
    rr->type = TF_RTCP_RR;
    rr->rr.ssrc = s->rtcp_ssrc;
    for (int i = 0; i < s->n_tracks; i++) {
        track_t *t = &s->track[i];
        if (t->out_ssrc && t->sent_packets) {
            tf_rtcp_packet_t *sr = &pk[n++];
            memset(sr, 0, sizeof(*sr));
            sr->type = TF_RTCP_SR;
            sr->sr.ssrc = t->out_ssrc;
            sr->sr.ntp = ntp;
            uint32_t clock = t->kind == TF_SDP_AUDIO ? 48000 : 90000;
            sr->sr.rtp_ts = t->last_rtp_ts +
                            (uint32_t)((now - t->last_rtp_at_us) * clock / 1000000);
            sr->sr.packet_count = (uint32_t)t->sent_packets;
            sr->sr.octet_count = (uint32_t)t->sent_octets;
        }
        if (t->in_ssrc && t->received && rr->rr.rb_count < TF_RTCP_MAX_COUNT) {
            tf_rtcp_report_block_t *rb = &rr->rr.rb[rr->rr.rb_count++];
            uint64_t expected = (uint64_t)(t->max_ext - t->base_ext + 1);
            uint64_t exp_int = expected - t->expected_prior, rec_int = t->received - t->received_prior;
            t->expected_prior = expected;
            t->received_prior = t->received;
            int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
            rb->ssrc = t->in_ssrc;
            rb->fraction_lost = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / (int64_t)exp_int) : 0;
            rb->cumulative_lost = (int32_t)((int64_t)expected - (int64_t)t->received);
            rb->highest_seq = (uint32_t)t->max_ext;
            rb->lsr = t->lsr;
            rb->dlsr = t->lsr ? (uint32_t)((now - t->lsr_at_us) * 65536 / 1000000) : 0;
        }
    }
    uint8_t out[1500];
    int w = tf_rtcp_compound_marshal_to(pk, n, out, sizeof(out) - TF_SRTP_MAX_RTCP_OVERHEAD);
    if (w > 0)
        send_protected(s, out, (size_t)w, sizeof(out), 1);
}

static void on_timer(uv_timer_t *timer)
{
    tf_session_t *s = timer->data;
    uint64_t now = tf_server_now_us(s->srv);
    tf_peer_handle_timeout(s->peer, now);
    flush_transmits(s);
    handle_events(s);
    if (s->closing)
        return;
    if (s->connected && !s->mixing && now >= s->next_rtcp_us) {
        send_reports(s, now);
        s->next_rtcp_us = now + RTCP_INTERVAL_US;
    }
    arm_timer(s);
}

/* Mixing rooms: the plain packet goes to the room's worker; a full queue drops it. */
static void to_room(tf_session_t *s, int rtcp, const uint8_t *buf, size_t len)
{
    if (len > TF_MSG_DATA)
        return;
    tf_msg_t m = {.kind = rtcp ? TF_MSG_RTCP : TF_MSG_RTP, .member = s->member,
                  .len = (uint16_t)len};
    memcpy(m.data, buf, len);
    if (rtcp)
        s->rtcp_in++;
    else {
        s->rtp_in++;
        s->bytes_in += len;
    }
    if (tf_worker_post(s->worker, &m) < 0)
        s->srv->stats.worker_queue_drops++;
}

void tf_session_from_room(tf_session_t *s, const tf_msg_t *m)
{
    if (s->closing)
        return;
    if (m->kind == TF_MSG_EVENT) {
        const char *json = m->ptr;
        if (strstr(json, "\"type\": \"layout\"")) {
            free(s->layout);
            s->layout = strdup(json);
        }
        tf_ws_send(s->ws, json);
        return;
    }
    if (!s->connected)
        return;
    uint8_t buf[TF_MSG_DATA + TF_SRTP_MAX_RTCP_OVERHEAD];
    memcpy(buf, m->data, m->len);
    send_protected(s, buf, m->len, sizeof(buf), m->kind == TF_MSG_RTCP);
}

tf_session_t *tf_session_by_member(tf_server_t *srv, uint32_t member)
{
    tf_session_t *s = srv->by_member[member & 0xffff];
    return s && s->member == member ? s : NULL;
}

/* What the room engine needs to know of the negotiated media of one kind. */
static void member_media(const tf_sdp_t *offer, const tf_sdp_plan_t *plan, tf_sdp_kind_t kind,
                         tf_member_media_t *out)
{
    memset(out, 0, sizeof(*out));
    out->pt = out->rtx_pt = -1;
    for (int i = 0; i < plan->n_media; i++) {
        const tf_sdp_media_answer_t *a = &plan->media[i];
        const tf_sdp_media_t *m = &offer->media[i];
        if (!a->accepted || m->kind != kind || out->present)
            continue;
        out->present = 1;
        out->sends = (a->dir & TF_SDP_RECVONLY) != 0;  /* we receive: the member sends */
        out->receives = (a->dir & TF_SDP_SENDONLY) != 0;
        out->codec = a->codec;
        out->pt = a->pt;
        out->rtx_pt = a->rtx_pt;
        out->out_ssrc = a->ssrc;
        out->out_rtx_ssrc = a->rtx_ssrc;
        memcpy(out->ext, a->ext, sizeof(out->ext));
        out->fb = a->fb;
        for (int k = 0; k < m->n_ssrcs; k++) {
            if (!m->ssrcs[k].is_rtx) {
                out->in_ssrc = m->ssrcs[k].ssrc;
                out->in_rtx_ssrc = m->ssrcs[k].rtx_ssrc;
                break;
            }
        }
    }
}

static int join_room(tf_session_t *s, const tf_sdp_t *offer, const tf_sdp_plan_t *plan)
{
    tf_server_t *srv = s->srv;
    for (int tries = 0; tries < 65536; tries++) {
        uint32_t id = ++srv->next_member;
        if (id && !srv->by_member[id & 0xffff]) {
            s->member = id;
            break;
        }
    }
    if (!s->member)
        return -ENOSPC;
    tf_member_info_t *info = calloc(1, sizeof(*info));
    if (!info)
        return -ENOMEM;
    info->id = s->member;
    snprintf(info->name, sizeof(info->name), "%s", s->name[0] ? s->name : "Gast");
    member_media(offer, plan, TF_SDP_AUDIO, &info->audio);
    member_media(offer, plan, TF_SDP_VIDEO, &info->video);
    s->worker = tf_server_worker_for(srv, s->room);
    tf_msg_t m = {.kind = TF_MSG_JOIN, .member = s->member, .ptr = info};
    snprintf(m.room, sizeof(m.room), "%s", s->room);
    if (tf_worker_post(s->worker, &m) < 0) {
        free(info);
        return -EAGAIN;
    }
    srv->by_member[s->member & 0xffff] = s;
    s->mixing = 1;
    return 0;
}

void tf_session_input(tf_session_t *s, const tf_addr_t *from, uint8_t *buf, size_t len)
{
    if (s->closing)
        return;
    size_t cap = sizeof(s->srv->rx);
    int kind = tf_peer_handle_input(s->peer, tf_server_now_us(s->srv), from, buf, &len);
    if (kind < 0)
        s->srv->stats.bad_input++;
    else if (kind != TF_PEER_INPUT_NONE && s->mixing)
        to_room(s, kind == TF_PEER_INPUT_RTCP, buf, len);
    else if (kind == TF_PEER_INPUT_RTP)
        on_rtp(s, buf, len, cap);
    else if (kind == TF_PEER_INPUT_RTCP)
        on_rtcp(s, buf, len);
    flush_transmits(s);
    handle_events(s);
    arm_timer(s);
}

static int setup_tracks(tf_session_t *s, const tf_sdp_t *offer, tf_sdp_plan_t *plan)
{
    for (int i = 0; i < plan->n_media; i++) {
        tf_sdp_media_answer_t *m = &plan->media[i];
        if (!m->accepted)
            continue;
        track_t *t = &s->track[s->n_tracks++];
        t->kind = offer->media[i].kind;
        t->pt = m->pt;
        t->rtx_pt = m->rtx_pt;
        if (m->dir & TF_SDP_SENDONLY) { /* we send on this section */
            m->ssrc = t->out_ssrc = random_u32();
            if (m->rtx_pt >= 0)
                m->rtx_ssrc = t->out_rtx_ssrc = random_u32();
        }
    }
    return s->n_tracks ? 0 : -ENOTSUP;
}

static void on_timer_closed(uv_handle_t *h)
{
    tf_session_t *s = h->data;
    tf_peer_destroy(&s->peer);
    OPENSSL_cleanse(s->pwd, sizeof(s->pwd));
    free(s->layout);
    free(s);
}

int tf_session_create(tf_session_t **out, tf_server_t *srv, const char *room, const char *name,
                      const tf_sdp_t *offer, char *answer, size_t cap, int *status, char *err,
                      size_t errlen)
{
    *out = NULL;
    tf_sdp_plan_t *plan = calloc(1, sizeof(*plan));
    tf_session_t *s = calloc(1, sizeof(*s));
    int e = -ENOMEM;
    *status = 500;
    if (!plan || !s) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    tf_sdp_config_t sc;
    tf_sdp_config_default(&sc);
    e = tf_sdp_negotiate(offer, &sc, plan, err, errlen);
    if (e < 0) {
        *status = e == -ENOTSUP ? 406 : 400;
        goto fail;
    }
    s->srv = srv;
    s->rtt_ms = -1;
    snprintf(s->room, sizeof(s->room), "%s", room);
    snprintf(s->name, sizeof(s->name), "%s", name);
    random_text(s->id, TF_SESSION_ID_LEN);
    random_text(s->ufrag, 8);
    random_text(s->pwd, 32);
    s->rtcp_ssrc = random_u32();
    e = setup_tracks(s, offer, plan);
    if (e < 0) {
        *status = 406;
        snprintf(err, errlen, "no audio or video section could be accepted");
        goto fail;
    }
    const tf_sdp_media_t *m0 = &offer->media[plan->tagged];
    const tf_sdp_fingerprint_t *fp = &m0->tr.fingerprints[0];
    tf_peer_config_t pc = {
        .cert = srv->cert, .local_ufrag = s->ufrag, .local_pwd = s->pwd,
        .remote_ufrag = m0->tr.ice_ufrag, .remote_pwd = m0->tr.ice_pwd,
        .fingerprint_hash = fp->hash, .fingerprint = fp->value,
    };
    s->created_us = tf_server_now_us(srv);
    e = tf_peer_create(&s->peer, &pc, s->created_us);
    if (e < 0) {
        *status = 400;
        snprintf(err, errlen, "the offer's ICE credentials or fingerprint were refused");
        goto fail;
    }
    char cname[17];
    random_text(cname, 16);
    tf_sdp_local_t local = {
        .session_id = random_u32(), .session_version = 1, .ice_ufrag = s->ufrag,
        .ice_pwd = s->pwd, .fingerprint = srv->fingerprint, .cname = cname,
        .stream_id = "tafel", .candidates = &srv->candidate, .n_candidates = 1,
    };
    size_t alen = 0;
    e = tf_sdp_write_answer(offer, plan, &local, answer, cap, &alen);
    if (e < 0) {
        snprintf(err, errlen, "cannot write the answer (%s)", strerror(-e));
        goto fail;
    }
    if (strncmp(room, "echo", 4) != 0 && (e = join_room(s, offer, plan)) < 0) {
        *status = 503;
        snprintf(err, errlen, "the room's media worker is overloaded");
        goto fail;
    }
    uv_timer_init(srv->loop, &s->timer);
    s->timer.data = s;
    if (!srv->cfg.auth) /* development mode: the first in a room moderates it */
        s->role = tf_session_dev_role(srv, room);
    link_session(srv, s);
    srv->stats.sessions_created++;
    tf_session_participants_changed(srv, s->room);
    arm_timer(s);
    free(plan);
    *status = 201;
    *out = s;
    tf_log(TF_LOG_INFO, "session %s joined %s (%d media sections)", s->id, tf_log_room(s->room),
           s->n_tracks);
    return 0;
fail:
    if (s)
        tf_peer_destroy(&s->peer);
    free(s);
    free(plan);
    return e;
}

void tf_session_close(tf_session_t *s, const char *why)
{
    if (s->closing)
        return;
    s->closing = 1;
    tf_server_t *srv = s->srv;
    tf_log(TF_LOG_INFO, "session %s left %s: %s (%llu packets in, %llu out)", s->id,
           tf_log_room(s->room), why, (unsigned long long)s->rtp_in,
           (unsigned long long)s->rtp_out);
    tf_peer_close(s->peer, tf_server_now_us(srv));
    flush_transmits(s);
    for (int i = 0; i < s->n_addrs; i++)
        tf_addr_map_del(&srv->by_addr, &s->addrs[i], s);
    if (s->ws) {
        tf_ws_close(s->ws);
        s->ws = NULL;
    }
    if (s->mixing) {
        tf_msg_t m = {.kind = TF_MSG_LEAVE, .member = s->member};
        while (tf_worker_post(s->worker, &m) < 0)
            ; /* a leave must not be lost: the worker drains its queue continuously */
        srv->by_member[s->member & 0xffff] = NULL;
    }
    unlink_session(srv, s);
    srv->stats.sessions_closed++;
    tf_moderate_session_left(srv, s->room, s->id);
    tf_session_participants_changed(srv, s->room);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

void tf__session_post_mute(tf_session_t *s)
{
    if (!s->mixing)
        return;
    tf_msg_t m = {.kind = TF_MSG_MUTE, .member = s->member, .len = 1};
    m.data[0] = (uint8_t)(s->self_audio | s->self_video << 1);
    if (tf_worker_post(s->worker, &m) < 0) /* only when the queue's control reserve is full too */
        tf_log(TF_LOG_WARN, "session %s: a control message was lost (worker queue full)", s->id);
}

tf_session_t *tf_session_find(tf_server_t *srv, const char *room, const char *id)
{
    for (tf_session_t *s = srv->sessions; s; s = s->next)
        if (!strcmp(s->id, id) && !strcmp(s->room, room))
            return s;
    return NULL;
}

/* Linear: used only for a STUN check from an address no session knows yet. */
tf_session_t *tf_session_find_by_ufrag(tf_server_t *srv, const char *ufrag, size_t len)
{
    for (tf_session_t *s = srv->sessions; s; s = s->next)
        if (strlen(s->ufrag) == len && !memcmp(s->ufrag, ufrag, len))
            return s;
    return NULL;
}

int tf_session_room_count(tf_server_t *srv, const char *room)
{
    int n = 0;
    for (tf_session_t *s = srv->sessions; s; s = s->next)
        n += !strcmp(s->room, room);
    return n;
}

const char *tf_session_id(const tf_session_t *s) { return s->id; }

void tf_session_broadcast(tf_server_t *srv, const char *room, const tf_msg_t *m)
{
    for (tf_session_t *s = srv->sessions; s; s = s->next)
        if (s->mixing && !strcmp(s->room, room))
            tf_session_from_room(s, m);
}

char *tf_session_stats_json(const tf_session_t *s, size_t *len)
{
    tf_peer_stats_t ps;
    tf_peer_get_stats(s->peer, &ps);
    uint64_t expected = 0, received = 0;
    for (int i = 0; i < s->n_tracks; i++) {
        if (s->track[i].received) {
            expected += (uint64_t)(s->track[i].max_ext - s->track[i].base_ext + 1);
            received += s->track[i].received;
        }
    }
    double loss = expected ? 100.0 * (double)(expected > received ? expected - received : 0) /
                                 (double)expected
                           : 0.0;
    size_t cap = 1024 + (s->layout ? strlen(s->layout) : 0);
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    int n = snprintf(buf, cap,
                     "{\"session\": \"%s\", \"room\": \"%s\", \"member\": %u, \"connected\": %s, "
                     "\"rtt_ms\": %d, \"loss_percent\": %.2f, \"rtp_in\": %llu, "
                     "\"rtp_out\": %llu, \"bytes_in\": %llu, \"bytes_out\": %llu, "
                     "\"rtcp_in\": %llu, \"rtcp_out\": %llu, \"nacks_relayed\": %llu, "
                     "\"plis_relayed\": %llu, \"dropped\": %llu, \"layout\": %s}\n",
                     s->id, s->room, s->member, s->connected ? "true" : "false", s->rtt_ms, loss,
                     (unsigned long long)s->rtp_in, (unsigned long long)s->rtp_out,
                     (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out,
                     (unsigned long long)s->rtcp_in, (unsigned long long)s->rtcp_out,
                     (unsigned long long)s->nacks_relayed, (unsigned long long)s->plis_relayed,
                     (unsigned long long)(ps.dropped_srtp + ps.dropped_unknown +
                                          ps.dropped_unvalidated + ps.dropped_early),
                     s->layout ? s->layout : "null");
    *len = (size_t)n;
    return buf;
}
