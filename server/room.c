/* room.c — the MCU room engine's core: members join and leave, RTCP from members (key frame
 * requests, NACKs, reports), the output ring towards the I/O side, events, statistics. Audio is
 * in room_audio.c, video in room_video.c. No sockets, no clock, no threads. */
#include "server/room_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"

#define RTCP_INTERVAL_US 1000000

uint64_t tf__room_media_clock(uint64_t now_us, uint32_t rate)
{
    return (now_us / 1000000) * rate + (now_us % 1000000) * rate / 1000000; /* no overflow */
}

int tf_room_create(tf_room_t **out, const char *name, const tf_room_config_t *cfg, uint64_t now_us)
{
    *out = NULL;
    tf_room_t *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    snprintf(r->name, sizeof(r->name), "%s", name);
    if (cfg)
        r->cfg = *cfg;
    if (!r->cfg.max_speakers)
        r->cfg.max_speakers = 3;
    if (!cfg)
        r->cfg.cpu_mask = ~0u;
    r->active_speaker = -1;
    r->layout = TF_LAYOUT_GRID;
    r->layout_choice = -1;
    r->next_audio_us = now_us + 20000;
    r->out = calloc(OUT_RING, sizeof(*r->out));
    tf_amix_config_t ac = {.max_speakers = r->cfg.max_speakers};
    if (!r->out || tf_amix_create(&r->amix, &ac) < 0) {
        tf_room_destroy(&r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

static void free_member(tf_room_t *r, member_t *m)
{
    tf__room_rate_leave(m);
    tf__room_audio_leave(r, m);
    tf__room_video_leave(r, m);
    free(m->hist);
    free(m);
}

void tf_room_destroy(tf_room_t **rp)
{
    tf_room_t *r = *rp;
    if (!r)
        return;
    *rp = NULL;
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++)
        if (r->members[i])
            free_member(r, r->members[i]);
    tf__room_audio_free(r);
    tf__room_video_free(r);
    tf_amix_destroy(&r->amix);
    while (r->ev_len) {
        free(r->events[r->ev_head].json);
        r->ev_head = (r->ev_head + 1) % EVENTS;
        r->ev_len--;
    }
    free(r->out);
    free(r);
}

static member_t *find(tf_room_t *r, uint32_t id)
{
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++)
        if (r->members[i] && r->members[i]->info.id == id)
            return r->members[i];
    return NULL;
}

int tf_room_member_count(const tf_room_t *r) { return r->n_members; }

int tf_room_join(tf_room_t *r, const tf_member_info_t *info, uint64_t now_us)
{
    r->now_us = now_us;
    if (find(r, info->id))
        return -EEXIST;
    int slot = -1;
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS && slot < 0; i++)
        if (!r->members[i])
            slot = i;
    if (slot < 0)
        return -ENOSPC;
    member_t *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->slot = slot;
    m->info = *info;
    m->joined_us = now_us;
    m->pipe = -1;
    m->level = 1;
    m->tier = TF_TIER_MEDIUM;
    uint32_t rnd = info->id * 2654435761u;
    m->ts_offset = rnd;
    m->vseq = (uint16_t)(rnd >> 7);
    m->aseq = (uint16_t)(rnd >> 13);
    m->rtx_seq = (uint16_t)(rnd >> 3);
    m->next_rtcp_us = now_us + RTCP_INTERVAL_US;
    m->hist = calloc(HISTORY, sizeof(*m->hist));
    int e = m->hist ? 0 : -ENOMEM;
    if (e == 0)
        e = tf__room_audio_join(r, m);
    if (e == 0)
        e = tf__room_video_join(r, m, now_us);
    if (e == 0)
        e = tf__room_rate_join(r, m);
    if (e < 0) {
        free_member(r, m);
        return e;
    }
    r->members[slot] = m;
    r->n_members++;
    r->layout_dirty = 1;
    r->stats.members = r->n_members;
    return 0;
}

void tf_room_leave(tf_room_t *r, uint32_t id, uint64_t now_us)
{
    (void)now_us;
    member_t *m = find(r, id);
    if (!m)
        return;
    r->members[m->slot] = NULL;
    r->n_members--;
    if (r->spotlight == id)
        r->spotlight = 0;
    if (r->screen == id)
        r->screen = 0;
    r->layout_dirty = 1;
    free_member(r, m);
    r->stats.members = r->n_members;
    if (r->n_members == 0)
        tf__room_audio_free(r); /* nobody listens: every Opus encoder goes now */
}

void tf__room_emit(tf_room_t *r, uint32_t member, int rtcp, const uint8_t *data, size_t len)
{
    if (r->out_len == OUT_RING || len > sizeof(r->out[0].data)) {
        r->stats.out_dropped++;
        return;
    }
    tf_room_out_t *o = &r->out[(r->out_head + r->out_len) % OUT_RING];
    o->member = member;
    o->rtcp = rtcp;
    o->len = len;
    memcpy(o->data, data, len);
    r->out_len++;
    r->stats.packets_out++;
}

int tf_room_poll_out(tf_room_t *r, tf_room_out_t *out)
{
    if (!r->out_len)
        return -EAGAIN;
    *out = r->out[r->out_head];
    r->out_head = (r->out_head + 1) % OUT_RING;
    r->out_len--;
    return 0;
}

void tf__room_event(tf_room_t *r, uint32_t member, char *json)
{
    if (!json)
        return;
    if (r->ev_len == EVENTS) { /* the oldest event is the least useful one */
        free(r->events[r->ev_head].json);
        r->ev_head = (r->ev_head + 1) % EVENTS;
        r->ev_len--;
    }
    int i = (r->ev_head + r->ev_len) % EVENTS;
    r->events[i].member = member;
    r->events[i].json = json;
    r->ev_len++;
}

int tf_room_poll_event(tf_room_t *r, uint32_t *member, char **json)
{
    if (!r->ev_len)
        return -EAGAIN;
    *member = r->events[r->ev_head].member;
    *json = r->events[r->ev_head].json;
    r->ev_head = (r->ev_head + 1) % EVENTS;
    r->ev_len--;
    return 0;
}

/* Builds one RTP packet towards m with the extensions it negotiated (transport-cc sequence). */
size_t tf__room_marshal(tf_room_t *r, member_t *m, const tf_member_media_t *media, uint32_t ssrc,
                        uint8_t pt, uint16_t seq, uint32_t ts, int marker, const uint8_t *payload,
                        size_t len, uint8_t *out, size_t cap)
{
    (void)r;
    tf_rtp_packet_t p;
    memset(&p, 0, sizeof(p));
    p.marker = marker;
    p.payload_type = pt;
    p.seq = seq;
    p.timestamp = ts;
    p.ssrc = ssrc;
    p.payload = payload;
    p.payload_len = len;
    uint8_t twcc[2];
    uint16_t tseq = m->twcc_seq;
    if (media->ext[TF_SDP_EXT_TWCC]) {
        tf_rtp_put_twcc_seq(twcc, tseq);
        p.extension = true;
        p.ext[0] = (tf_rtp_ext_t){media->ext[TF_SDP_EXT_TWCC], 2, twcc};
        p.ext_count = 1;
    }
    int n = tf_rtp_marshal_to(&p, out, cap);
    if (n <= 0)
        return 0;
    if (media->ext[TF_SDP_EXT_TWCC]) {
        m->twcc_seq++;
        tf__room_rate_sent(r, m, tseq, (size_t)n, 0);
    }
    return (size_t)n;
}

/* A padding-only RTX packet for a bandwidth probe (RFC 4588 allows RTX packets without an
 * original: libwebrtc probes the same way). */
size_t tf__room_marshal_padding(tf_room_t *r, member_t *m, uint16_t probe, uint8_t *out,
                                size_t cap)
{
    tf_rtp_packet_t p;
    memset(&p, 0, sizeof(p));
    p.payload_type = (uint8_t)m->info.video.rtx_pt;
    p.seq = m->rtx_seq++;
    p.timestamp = (uint32_t)tf__room_media_clock(r->now_us, 90000) + m->ts_offset;
    p.ssrc = m->info.video.out_rtx_ssrc;
    p.padding_len = 255;
    uint8_t twcc[2];
    uint16_t tseq = m->twcc_seq;
    tf_rtp_put_twcc_seq(twcc, tseq);
    p.extension = true;
    p.ext[0] = (tf_rtp_ext_t){m->info.video.ext[TF_SDP_EXT_TWCC], 2, twcc};
    p.ext_count = 1;
    int n = tf_rtp_marshal_to(&p, out, cap);
    if (n <= 0)
        return 0;
    m->twcc_seq++;
    tf__room_rate_sent(r, m, tseq, (size_t)n, probe);
    return (size_t)n;
}

/* RTCP from a member about the streams we send it. */
void tf_room_rtcp_in(tf_room_t *r, uint32_t id, uint64_t now_us, const uint8_t *pkt, size_t len)
{
    r->now_us = now_us;
    member_t *m = find(r, id);
    tf_rtcp_iter_t it;
    if (!m || tf_rtcp_iter_init(&it, pkt, len) < 0) {
        r->stats.malformed_in++;
        return;
    }
    tf_rtcp_packet_t p;
    while (tf_rtcp_iter_next(&it, &p) == 1) {
        tf__room_rate_rtcp(r, m, &p);
        switch (p.type) {
        case TF_RTCP_PLI:
            if (p.pli.media_ssrc == m->info.video.out_ssrc)
                tf__room_video_keyframe(r, m, now_us);
            break;
        case TF_RTCP_FIR:
            for (size_t i = 0; i < p.fir.count; i++)
                if (tf_rtcp_fir_entry(&p.fir, i).ssrc == m->info.video.out_ssrc)
                    tf__room_video_keyframe(r, m, now_us);
            break;
        case TF_RTCP_NACK:
            if (p.nack.media_ssrc == m->info.video.out_ssrc) {
                uint16_t lost[256];
                int n = tf_rtcp_nack_lost(&p.nack, lost, 256);
                if (n > 0)
                    tf__room_video_nack(r, m, lost, n);
            }
            break;
        default:
            break; /* reports, REMB and transport-cc: room_rate.c */
        }
    }
}

void tf_room_set_muted(tf_room_t *r, uint32_t id, int audio_off, int video_off)
{
    member_t *m = find(r, id);
    if (!m || (m->audio_off == audio_off && m->video_off == video_off))
        return;
    if (m->audio_off != audio_off)
        tf__room_audio_reset(m);
    m->audio_off = audio_off;
    m->video_off = video_off;
    r->layout_dirty = 1;
}

void tf_room_moderate(tf_room_t *r, uint32_t id, int audio_off, int video_off)
{
    member_t *m = find(r, id);
    if (!m)
        return;
    if (audio_off >= 0 && m->mod_audio_off != !!audio_off) {
        m->mod_audio_off = !!audio_off;
        tf__room_audio_reset(m);
        r->layout_dirty = 1;
    }
    if (video_off >= 0 && m->mod_video_off != !!video_off) {
        m->mod_video_off = !!video_off;
        r->layout_dirty = 1;
    }
}

int tf_room_spotlight(tf_room_t *r, uint32_t id)
{
    if (id && !find(r, id))
        return -ENOENT;
    if (r->spotlight != id)
        r->layout_dirty = 1;
    r->spotlight = id;
    return 0;
}

void tf_room_set_layout(tf_room_t *r, int kind)
{
    if (kind != TF_LAYOUT_GRID && kind != TF_LAYOUT_SPEAKER && kind != TF_LAYOUT_PRESENTATION)
        kind = -1;
    if (r->layout_choice != kind)
        r->layout_dirty = 1;
    r->layout_choice = kind;
}

int tf_room_set_screen(tf_room_t *r, uint32_t id, int on)
{
    member_t *m = find(r, id);
    if (!m)
        return -ENOENT;
    m->is_screen = !!on;
    if (on)
        r->screen = id;
    else if (r->screen == id)
        r->screen = 0;
    r->layout_dirty = 1;
    return 0;
}

void tf_room_rtp_in(tf_room_t *r, uint32_t id, uint64_t now_us, const uint8_t *pkt, size_t len)
{
    r->now_us = now_us;
    member_t *m = find(r, id);
    tf_rtp_packet_t p;
    if (!m || tf_rtp_parse(&p, pkt, len) < 0) {
        r->stats.malformed_in++;
        return;
    }
    if (m->info.audio.present && p.payload_type == m->info.audio.pt)
        tf__room_audio_rtp(r, m, &p);
    else if (m->info.video.present &&
             (p.payload_type == m->info.video.pt || p.payload_type == m->info.video.rtx_pt))
        tf__room_video_rtp(r, m, now_us, pkt, len);
}

static void fill_sr(tf_rtcp_packet_t *pk, uint32_t ssrc, uint64_t ntp, uint32_t rtp_ts,
                    uint64_t packets, uint64_t octets)
{
    memset(pk, 0, sizeof(*pk));
    pk->type = TF_RTCP_SR;
    pk->sr.ssrc = ssrc;
    pk->sr.ntp = ntp;
    pk->sr.rtp_ts = rtp_ts;
    pk->sr.packet_count = (uint32_t)packets;
    pk->sr.octet_count = (uint32_t)octets;
}

/* Sender reports for the streams we send each member, once a second. */
static void send_reports(tf_room_t *r, member_t *m, uint64_t now_us)
{
    tf_rtcp_packet_t pk[2];
    size_t n = 0;
    uint64_t ntp = tf__room_ntp(now_us); /* one clock for every SR; RTTs come back in it */
    if (m->info.video.receives && m->v_packets)
        fill_sr(&pk[n++], m->info.video.out_ssrc, ntp,
                (uint32_t)tf__room_media_clock(now_us, 90000) + m->ts_offset, m->v_packets,
                m->v_octets);
    if (m->info.audio.receives && m->a_packets)
        fill_sr(&pk[n++], m->info.audio.out_ssrc, ntp,
                (uint32_t)tf__room_media_clock(now_us, 48000) + m->ts_offset, m->a_packets,
                m->a_octets);
    uint8_t out[1400];
    int w = n ? tf_rtcp_compound_marshal_to(pk, n, out, sizeof(out)) : 0;
    if (w > 0)
        tf__room_emit(r, m->info.id, 1, out, (size_t)w);
}

void tf_room_tick(tf_room_t *r, uint64_t now_us)
{
    r->now_us = now_us;
    tf__room_rate_tick(r);
    while (now_us >= r->next_audio_us) {
        tf__room_audio_tick(r, r->next_audio_us);
        r->next_audio_us += 20000;
    }
    tf__room_video_tick(r, now_us);
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (m && now_us >= m->next_rtcp_us) {
            send_reports(r, m, now_us);
            m->next_rtcp_us = now_us + RTCP_INTERVAL_US;
        }
    }
}

uint64_t tf_room_next_deadline(const tf_room_t *r)
{
    uint64_t d = r->next_audio_us, v = tf__room_video_deadline(r);
    return v < d ? v : d;
}

void tf_room_get_stats(const tf_room_t *r, tf_room_stats_t *out)
{
    *out = r->stats;
    out->members = r->n_members;
    out->video_encoders = out->tiers_in_use = 0;
    unsigned tiers = 0;
    for (int i = 0; i < MAX_PIPES; i++) {
        if (r->pipes[i].used) {
            out->video_encoders++;
            tiers |= 1u << r->pipes[i].tier;
        }
    }
    for (; tiers; tiers &= tiers - 1)
        out->tiers_in_use++;
    out->audio_encoders = 0;
    for (int i = 0; i < MAX_AUDIO_ENC; i++)
        out->audio_encoders += r->aenc[i].used;
    out->decoders = 0;
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++)
        if (r->members[i])
            out->decoders += (r->members[i]->adec != NULL) + (r->members[i]->vdec != NULL);
}
