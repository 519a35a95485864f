/* room_rate.c — per-receiver bandwidth and the room's tiers: feeds each receiver's estimator
 * (transport-cc, REMB, receiver reports), probes with RTX padding, moves receivers between tiers
 * (room_tier.c decides; audio only below the lowest), and tells senders their uplink budget (REMB
 * and an event). No packet contents and no encoding here. */
#include "server/room_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp_feedback.h"

#define RATE_INTERVAL_US 500000
#define AUDIO_BPS TF_TIER_AUDIO_BPS

uint64_t tf__room_ntp(uint64_t now_us)
{
    return ((now_us / 1000000 + 2208988800ull) << 32) | (((now_us % 1000000) << 32) / 1000000);
}

int tf__room_rate_join(tf_room_t *r, member_t *m)
{
    (void)r;
    if (!m->info.video.receives && !m->info.audio.receives)
        return 0;
    tf_bwe_config_t c = {.start_bps = 700000, .min_bps = 30000, .max_bps = 2500000};
    return tf_bwe_create(&m->bwe, &c);
}

void tf__room_rate_leave(member_t *m) { tf_bwe_destroy(&m->bwe); }

void tf__room_rate_sent(tf_room_t *r, member_t *m, uint16_t twcc_seq, size_t len, uint16_t probe)
{
    if (m->bwe)
        tf_bwe_on_packet_sent(m->bwe, r->now_us, twcc_seq, len, probe);
}

static int is_ours(const member_t *m, uint32_t ssrc)
{
    return ssrc && (ssrc == m->info.video.out_ssrc || ssrc == m->info.audio.out_ssrc);
}

static void report_block(tf_room_t *r, member_t *m, const tf_rtcp_report_block_t *rb)
{
    if (!m->bwe || !is_ours(m, rb->ssrc))
        return;
    int64_t rtt = -1;
    if (rb->lsr) {
        uint32_t mid = tf_rtcp_ntp_compact(tf__room_ntp(r->now_us));
        rtt = (int64_t)((uint64_t)(uint32_t)(mid - rb->lsr - rb->dlsr) * 1000000 >> 16);
        if (rtt > 10000000)
            rtt = -1; /* a report about an SR from before a clock jump */
    }
    tf_bwe_on_receiver_report(m->bwe, r->now_us, rb->fraction_lost, rtt);
    if (rtt > 0 && m->vrecv)
        tf_recv_stream_set_rtt(m->vrecv, rtt);
}

void tf__room_rate_rtcp(tf_room_t *r, member_t *m, const tf_rtcp_packet_t *p)
{
    if (!m->bwe)
        return;
    switch (p->type) {
    case TF_RTCP_TWCC:
        tf_bwe_on_twcc_feedback(m->bwe, r->now_us, &p->twcc);
        break;
    case TF_RTCP_REMB:
        tf_bwe_on_remb(m->bwe, r->now_us, p->remb.bitrate_bps);
        break;
    case TF_RTCP_RR:
        for (int i = 0; i < p->rr.rb_count; i++)
            report_block(r, m, &p->rr.rb[i]);
        break;
    case TF_RTCP_SR:
        for (int i = 0; i < p->sr.rb_count; i++)
            report_block(r, m, &p->sr.rb[i]);
        if (m->vrecv && p->sr.ssrc == m->in_video_ssrc)
            tf_recv_stream_on_sr(m->vrecv, (int64_t)r->now_us, &p->sr);
        break;
    default:
        break;
    }
}

static void announce_tier(tf_room_t *r, member_t *m, const tf_bwe_state_t *st)
{
    const tf_tier_t *t = tf_tier_get(m->tier);
    char *json = malloc(320);
    if (!json)
        return;
    snprintf(json, 320,
             "{\"type\": \"tier\", \"tier\": \"%s\", \"width\": %d, \"height\": %d, "
             "\"estimate_kbps\": %llu, \"loss_percent\": %.1f, \"reason\": \"%s\", "
             "\"audio_only\": %s}",
             t->name, t->width, t->height, (unsigned long long)(st->target_bps / 1000),
             100.0 * st->loss_fraction, tf_bwe_reason_name(st->reason),
             m->tier == TF_TIER_AUDIO ? "true" : "false");
    tf__room_event(r, m->info.id, json);
}

static void choose_tier(tf_room_t *r, member_t *m)
{
    if (!m->bwe || !m->info.video.receives)
        return;
    tf_bwe_state_t st;
    tf_bwe_get_state(m->bwe, &st);
    if (!m->tctl.p.up_headroom)
        tf_tier_ctl_init(&m->tctl, r->now_us);
    tf_tier_id_t want = tf_tier_ctl_step(&m->tctl, r->now_us, m->tier, &st, m->info.audio.receives);
    if (want == m->tier)
        return;
    m->tier = want;
    m->tier_changes++;
    r->stats.tier_changes++;
    tf__room_video_retier(r, m);
    announce_tier(r, m, &st);
}

/* A probe cluster: RTX padding packets (no media), sent at once; the receiver's transport-cc
 * feedback shows the rate they arrived at (a packet train: bwe.c). Only once that feedback
 * flows: a member joins before ICE and DTLS are done, and the estimator's initial probes, sent
 * into a path that is not up yet, would be lost (and with them the quick correction of a start
 * estimate above a thin link). */
static void probe(tf_room_t *r, member_t *m)
{
    tf_bwe_probe_t pr;
    if (!m->bwe || !m->info.video.out_rtx_ssrc || m->info.video.rtx_pt < 0 ||
        !m->info.video.ext[TF_SDP_EXT_TWCC] || !tf_bwe_twcc_active(m->bwe) ||
        tf_bwe_probe_request(m->bwe, r->now_us, &pr) < 0)
        return;
    uint32_t bytes = 0;
    for (uint32_t i = 0; i < 64 && (i < pr.min_packets || bytes < pr.min_bytes); i++) {
        uint8_t out[400];
        size_t len = tf__room_marshal_padding(r, m, pr.id, out, sizeof(out));
        if (!len)
            return;
        bytes += (uint32_t)len;
        tf__room_emit(r, m->info.id, 0, out, len);
    }
    r->stats.probes++;
}

/* What a sender's tile needs: its size in the largest canvas in use, and a bitrate in
 * proportion to the tier's for that share of the canvas. */
static void uplink_budget(tf_room_t *r, member_t *m)
{
    if (!m->info.video.sends || !m->in_video_ssrc)
        return;
    int best_w = 0, best_h = 0, fps = 15, kbps = 0;
    for (int i = 0; i < MAX_PIPES; i++) {
        pipe_t *p = &r->pipes[i];
        if (!p->used)
            continue;
        const tf_layout_t *lay = tf_compositor_layout(p->comp);
        const tf_tier_t *t = tf_tier_get(p->tier);
        for (int k = 0; k < lay->n; k++) {
            if (p->order[k] != m->info.id || lay->tile[k].w * lay->tile[k].h <= best_w * best_h)
                continue;
            best_w = lay->tile[k].w;
            best_h = lay->tile[k].h;
            fps = t->fps;
            double share = (double)(best_w * best_h) / (double)(t->width * t->height);
            kbps = (int)(t->video_kbps * share * 1.5); /* the mix re-encodes: give it margin */
        }
    }
    if (!best_w)
        return; /* not shown anywhere: keep the last budget */
    kbps = kbps < 60 ? 60 : kbps > 1500 ? 1500 : kbps;
    uint8_t out[128];
    tf_rtcp_packet_t remb = {.type = TF_RTCP_REMB};
    remb.remb.sender_ssrc = m->info.video.out_ssrc ? m->info.video.out_ssrc : m->info.id;
    remb.remb.bitrate_bps = (uint64_t)kbps * 1000 + AUDIO_BPS;
    remb.remb.ssrc_count = 1;
    remb.remb.ssrc[0] = m->in_video_ssrc;
    int w = tf_rtcp_marshal_to(&remb, out, sizeof(out));
    if (w > 0)
        tf__room_emit(r, m->info.id, 1, out, (size_t)w);
    if (best_w == m->uplink_w && best_h == m->uplink_h && kbps == m->uplink_kbps)
        return;
    m->uplink_w = best_w;
    m->uplink_h = best_h;
    m->uplink_kbps = kbps;
    char *json = malloc(160);
    if (json)
        snprintf(json, 160,
                 "{\"type\": \"uplink\", \"width\": %d, \"height\": %d, \"fps\": %d, "
                 "\"kbps\": %d}",
                 best_w, best_h, fps, kbps);
    tf__room_event(r, m->info.id, json);
}

void tf__room_rate_tick(tf_room_t *r)
{
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (!m)
            continue;
        probe(r, m);
        if (r->now_us < m->next_rate_us)
            continue;
        m->next_rate_us = r->now_us + RATE_INTERVAL_US;
        choose_tier(r, m);
        uplink_budget(r, m);
    }
}
