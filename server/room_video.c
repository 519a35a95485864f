/* room_video.c — the room's picture: per sender a receive stream (reorder, NACK, PLI) and a
 * decoder keeping the newest frame; per (tier, codec) a compositor and one encoder whose RTP is
 * rewritten for each receiver; NACKs answered from per-receiver history (RTX when negotiated).
 * No audio here, no bandwidth estimation yet (receivers stay on the medium tier). */
#include "server/room_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp_h264.h"
#include "server/rtc/rtp_vp8.h"
#include "mixer/roi.h"
#include "server/room_msg.h"

#define MAX_PAYLOAD 1100        /* RTP payload per packet: header, extensions and SRTP fit 1280 */
#define KEYFRAME_INTERVAL_US 1000000 /* at most one requested key frame per pipe per second */

static tf_vcodec_t vcodec(tf_sdp_codec_id_t c)
{
    return c == TF_SDP_CODEC_VP8 ? TF_VCODEC_VP8 : TF_VCODEC_H264;
}

int tf__room_video_join(tf_room_t *r, member_t *m, uint64_t now_us)
{
    (void)r;
    (void)now_us;
    if (!m->info.video.present || !m->info.video.sends)
        return 0;
    if (m->info.video.codec != TF_SDP_CODEC_H264 && m->info.video.codec != TF_SDP_CODEC_VP8)
        return 0;
    return tf_vdec_create(&m->vdec, vcodec(m->info.video.codec));
}

static void release_pipe(tf_room_t *r, member_t *m)
{
    if (m->pipe < 0)
        return;
    pipe_t *p = &r->pipes[m->pipe];
    m->pipe = -1;
    if (--p->receivers > 0)
        return;
    tf_compositor_destroy(&p->comp);
    tf_frame_unref(&p->canvas);
    tf_venc_destroy(&p->enc);
    free(p->qoff);
    memset(p, 0, sizeof(*p));
}

void tf__room_video_leave(tf_room_t *r, member_t *m)
{
    release_pipe(r, m);
    tf_recv_stream_destroy(&m->vrecv);
    tf_vdec_destroy(&m->vdec);
    tf_frame_unref(&m->latest);
}

void tf__room_video_free(tf_room_t *r)
{
    for (int i = 0; i < MAX_PIPES; i++) {
        tf_compositor_destroy(&r->pipes[i].comp);
        tf_frame_unref(&r->pipes[i].canvas);
        tf_venc_destroy(&r->pipes[i].enc);
        free(r->pipes[i].qoff);
    }
}

static void send_feedback(tf_room_t *r, member_t *m, uint64_t now_us)
{
    tf_recv_feedback_t fb;
    uint8_t out[1400];
    uint32_t sender = m->info.video.out_ssrc ? m->info.video.out_ssrc : m->info.id;
    while (tf_recv_stream_poll_feedback(m->vrecv, (int64_t)now_us, &fb) == 0) {
        if (fb.nack_count) {
            int w = tf_rtcp_nack_build_to(sender, m->in_video_ssrc, fb.nack, fb.nack_count, out,
                                          sizeof(out));
            if (w > 0)
                tf__room_emit(r, m->info.id, 1, out, (size_t)w);
        }
        if (fb.pli) {
            tf_rtcp_packet_t pli = {.type = TF_RTCP_PLI};
            pli.pli.sender_ssrc = sender;
            pli.pli.media_ssrc = m->in_video_ssrc;
            int w = tf_rtcp_marshal_to(&pli, out, sizeof(out));
            if (w > 0)
                tf__room_emit(r, m->info.id, 1, out, (size_t)w);
            m->last_pli_us = now_us;
        }
    }
}

static int open_stream(member_t *m, uint32_t ssrc)
{
    tf_recv_stream_config_t c;
    int h264 = m->info.video.codec == TF_SDP_CODEC_H264;
    tf_recv_stream_config_default(&c, h264 ? TF_RECV_CODEC_H264 : TF_RECV_CODEC_VP8, ssrc,
                                  (uint8_t)m->info.video.pt);
    c.nack = (m->info.video.fb & TF_SDP_FB_NACK) != 0;
    c.h264_key_needs_sps_pps = true; /* an IDR without its SPS/PPS cannot start a decoder */
    if (m->info.video.rtx_pt >= 0 && m->info.video.in_rtx_ssrc) {
        c.rtx = true;
        c.rtx_ssrc = m->info.video.in_rtx_ssrc;
        c.rtx_payload_type = (uint8_t)m->info.video.rtx_pt;
    }
    m->in_video_ssrc = ssrc;
    return tf_recv_stream_create(&m->vrecv, &c); /* it waits for (and asks for) a key frame */
}

static void decode_frames(tf_room_t *r, member_t *m, uint64_t now_us);

void tf__room_video_rtp(tf_room_t *r, member_t *m, uint64_t now_us, const uint8_t *pkt,
                        size_t len)
{
    if (!m->vdec)
        return;
    tf_rtp_packet_t p;
    if (tf_rtp_parse(&p, pkt, len) < 0)
        return;
    if (!m->vrecv) {
        if (p.payload_type != m->info.video.pt)
            return; /* RTX before any media: nothing to repair yet */
        if (open_stream(m, m->info.video.in_ssrc ? m->info.video.in_ssrc : p.ssrc) < 0)
            return;
    }
    tf_recv_stream_push(m->vrecv, (int64_t)now_us, pkt, len);
    decode_frames(r, m, now_us);
}

/* Decodes what the receive stream completed (after a push, or after a timeout gave up a gap). */
static void decode_frames(tf_room_t *r, member_t *m, uint64_t now_us)
{
    tf_recv_frame_t f;
    while (tf_recv_stream_poll_frame(m->vrecv, &f) == 0) {
        tf_frame_t *pic = NULL;
        int e = tf_vdec_decode(m->vdec, f.data, f.size, (int64_t)now_us, &pic);
        if (e < 0 && e != -EAGAIN) {
            r->stats.decode_errors++;
            tf_recv_stream_request_keyframe(m->vrecv);
        }
        if (pic) {
            if (!m->latest)
                r->layout_dirty = 1; /* the tile now shows video: tell the receivers */
            tf_frame_unref(&m->latest);
            m->latest = pic;
            m->latest_seq++;
            m->latest_at_us = now_us;
            r->stats.frames_decoded++;
        }
    }
    send_feedback(r, m, now_us);
}

/* The pipe a receiver should be on: shared per (tier, codec), or its own in per-member mode. */
static int pipe_for(tf_room_t *r, member_t *m, uint64_t now_us)
{
    uint32_t owner = r->cfg.per_member_encoders ? m->info.id : 0;
    int free_i = -1;
    for (int i = 0; i < MAX_PIPES; i++) {
        pipe_t *p = &r->pipes[i];
        if (p->used && p->tier == m->tier && p->codec == m->info.video.codec && p->owner == owner)
            return i;
        if (!p->used && free_i < 0)
            free_i = i;
    }
    if (free_i < 0) {
        r->stats.pipe_failures++;
        return -1;
    }
    pipe_t *p = &r->pipes[free_i];
    const tf_tier_t *t = tf_tier_get(m->tier);
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, vcodec(m->info.video.codec), t->width, t->height, t->video_kbps);
    vc.fps_num = t->fps;
    vc.fps_den = 1;
    vc.intra_refresh = t->intra_refresh;
    vc.max_slice_bytes = MAX_PAYLOAD;
    if (tf_compositor_create(&p->comp, t->width, t->height, r->cfg.cpu_mask) < 0 ||
        !(p->canvas = tf_frame_alloc(t->width, t->height)) || tf_venc_create(&p->enc, &vc) < 0) {
        tf_compositor_destroy(&p->comp);
        tf_frame_unref(&p->canvas);
        return -1;
    }
    p->mb_w = (t->width + 15) / 16;
    p->mb_h = (t->height + 15) / 16;
    if (vc.codec == TF_VCODEC_H264) {
        p->qoff = calloc((size_t)(p->mb_w * p->mb_h), sizeof(float));
        if (p->qoff)
            tf_venc_set_quant_offsets(p->enc, p->qoff, p->mb_w * p->mb_h);
    }
    p->used = 1;
    p->tier = m->tier;
    p->codec = m->info.video.codec;
    p->owner = owner;
    p->fps = t->fps;
    p->next_frame_us = now_us;
    p->want_key = 1;
    return free_i;
}

static void remember(member_t *m, uint16_t seq, const uint8_t *pkt, size_t len)
{
    hist_entry_t *h = &m->hist[seq % HISTORY];
    if (len > sizeof(h->data))
        return;
    h->valid = 1;
    h->seq = seq;
    h->len = (uint16_t)len;
    memcpy(h->data, pkt, len);
}

void tf__room_video_nack(tf_room_t *r, member_t *m, const uint16_t *seqs, int n)
{
    for (int i = 0; i < n; i++) {
        hist_entry_t *h = &m->hist[seqs[i] % HISTORY];
        if (!h->valid || h->seq != seqs[i])
            continue; /* older than the history */
        uint8_t out[1500];
        int w = h->len;
        if (m->info.video.rtx_pt >= 0 && m->info.video.out_rtx_ssrc)
            w = tf_rtp_rtx_wrap(h->data, h->len, (uint8_t)m->info.video.rtx_pt,
                                m->info.video.out_rtx_ssrc, m->rtx_seq++, out, sizeof(out));
        else
            memcpy(out, h->data, h->len);
        if (w <= 0)
            continue;
        /* A retransmission is a new packet on the wire: it gets the next transport-wide
         * sequence number, as libwebrtc's do, so that transport-cc feedback reports it in
         * order and the estimator counts what it costs. The original's number, already
         * reported lost, would send the receiver's feedback back over that old range. */
        uint8_t id = m->info.video.ext[TF_SDP_EXT_TWCC], twcc[2];
        uint16_t tseq = m->twcc_seq;
        tf_rtp_put_twcc_seq(twcc, tseq);
        if (id && tf_rtp_ext_overwrite(out, (size_t)w, id, twcc, 2) == 0) {
            m->twcc_seq++;
            tf__room_rate_sent(r, m, tseq, (size_t)w, 0);
        }
        tf__room_emit(r, m->info.id, 0, out, (size_t)w);
        r->stats.nacks_answered++;
    }
}

/* The receiver's tier changed: it leaves its pipe; the next video tick puts it on the pipe of
 * its new tier (or none for audio only) and that pipe sends a key frame. */
void tf__room_video_retier(tf_room_t *r, member_t *m)
{
    release_pipe(r, m);
    r->layout_dirty = 1;
}

void tf__room_video_keyframe(tf_room_t *r, member_t *m, uint64_t now_us)
{
    (void)now_us;
    r->stats.keyframe_requests++;
    if (m->pipe >= 0)
        r->pipes[m->pipe].want_key = 1; /* honoured at most once a second, see encode_pipe */
}

/* rtp_ts: the RTP timestamp (of the receiver's video stream) of the first frame drawn in this
 * layout, so the client shows the new labels with the picture they belong to. */
static char *layout_json(tf_room_t *r, pipe_t *p, const member_t *const *order, int n,
                         uint32_t rtp_ts)
{
    const tf_layout_t *lay = tf_compositor_layout(p->comp);
    /* a tile: its name escaped (<= 6 x 64 bytes) and the other fields (< 420 bytes) */
    size_t cap = 256 + (size_t)n * 820;
    char *j = malloc(cap);
    if (!j)
        return NULL;
    const tf_tier_t *t = tf_tier_get(p->tier);
    size_t o = (size_t)snprintf(j, cap,
                                "{\"type\": \"layout\", \"tier\": \"%s\", \"layout\": \"%s\", "
                                "\"width\": %d, \"height\": %d, \"rtp_ts\": %u, \"tiles\": [",
                                t->name, tf_layout_kind_name(lay->kind), t->width, t->height,
                                rtp_ts);
    for (int i = 0; i < n && o < cap; i++) {
        const tf_rect_t *rc = &lay->tile[i];
        char name[6 * sizeof(order[i]->info.name)];
        tf_chat_escape(order[i]->info.name, name, sizeof(name)); /* names are the users' text */
        o += (size_t)snprintf(j + o, cap - o,
                              "%s{\"id\": %u, \"name\": \"%s\", \"x\": %d, \"y\": %d, \"w\": %d, "
                              "\"h\": %d, \"video\": %s, \"speaking\": %s, \"mic_off\": %s, "
                              "\"camera_off\": %s, \"muted_by_teacher\": %s, "
                              "\"camera_stopped_by_teacher\": %s, \"screen\": %s, "
                              "\"spotlight\": %s}",
                              i ? ", " : "", order[i]->info.id, name, rc->x, rc->y,
                              rc->w, rc->h,
                              order[i]->latest && !CAM_OFF(order[i]) ? "true" : "false",
                              order[i]->slot == r->active_speaker ? "true" : "false",
                              MIC_OFF(order[i]) ? "true" : "false",
                              CAM_OFF(order[i]) ? "true" : "false",
                              order[i]->mod_audio_off ? "true" : "false",
                              order[i]->mod_video_off ? "true" : "false",
                              order[i]->is_screen ? "true" : "false",
                              order[i]->info.id == r->spotlight ? "true" : "false");
    }
    if (o < cap)
        snprintf(j + o, cap - o, "]}");
    return j;
}

static void fan_out(tf_room_t *r, int pipe_i, const tf_venc_packet_t *au, uint64_t now_us)
{
    pipe_t *p = &r->pipes[pipe_i];
    uint8_t payloads[64][MAX_PAYLOAD + 16];
    size_t plen[64];
    bool marker[64];
    int np = 0;
    if (p->codec == TF_SDP_CODEC_VP8) {
        tf_rtp_vp8_packetizer_t pk;
        if (tf_rtp_vp8_packetize_init(&pk, au->data, au->size, NULL, MAX_PAYLOAD) < 0)
            return;
        int n;
        while (np < 64 && (n = tf_rtp_vp8_packetize_next(&pk, payloads[np], sizeof(payloads[0]),
                                                         &marker[np])) > 0)
            plen[np++] = (size_t)n;
    } else {
        tf_rtp_h264_packetizer_t pk;
        if (tf_rtp_h264_packetize_init(&pk, au, MAX_PAYLOAD) < 0)
            return;
        int n;
        while (np < 64 && (n = tf_rtp_h264_packetize_next(&pk, payloads[np], sizeof(payloads[0]),
                                                          &marker[np])) > 0)
            plen[np++] = (size_t)n;
    }
    uint32_t ts = (uint32_t)tf__room_media_clock(now_us, 90000);
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (!m || m->pipe != pipe_i)
            continue;
        for (int k = 0; k < np; k++) {
            uint8_t out[1500];
            uint16_t seq = m->vseq++;
            size_t len = tf__room_marshal(r, m, &m->info.video, m->info.video.out_ssrc,
                                          (uint8_t)m->info.video.pt, seq, ts + m->ts_offset,
                                          marker[k], payloads[k], plen[k], out, sizeof(out));
            if (!len)
                continue;
            remember(m, seq, out, len);
            m->v_packets++;
            m->v_octets += plen[k];
            tf__room_emit(r, m->info.id, 0, out, len);
        }
    }
}

/* Bits where they matter (mixer/roi.h): the speaker's tile gets more, still tiles fewer. */
static void set_quant_offsets(tf_room_t *r, pipe_t *p, const member_t *const *order, int n)
{
    if (!p->qoff)
        return;
    tf_roi_class_t cls[TF_LAYOUT_MAX_TILES];
    for (int k = 0; k < n; k++) {
        const member_t *m = order[k];
        if (r->screen && k == 0 && m->info.id == r->screen)
            cls[k] = TF_ROI_SPEAKER; /* the shared screen: text needs the bits, moving or not */
        else if (r->screen)
            cls[k] = TF_ROI_STILL;   /* the strip beside a screen is secondary */
        else
            cls[k] = m->slot == r->active_speaker && r->n_members > 1 && !CAM_OFF(m)
                         ? TF_ROI_SPEAKER
                     : m->latest && !CAM_OFF(m) && m->latest_seq != p->shown_seq[k]
                         ? TF_ROI_MOVING
                         : TF_ROI_STILL;
        p->shown_seq[k] = m->latest_seq;
    }
    tf_roi_fill(p->qoff, p->mb_w, p->mb_h, tf_compositor_layout(p->comp), cls);
}

static member_t *member_by_id(tf_room_t *r, uint32_t id)
{
    for (int i = 0; id && i < TF_ROOM_MAX_MEMBERS; i++)
        if (r->members[i] && r->members[i]->info.id == id)
            return r->members[i];
    return NULL;
}

/* The layout a tier shows, by precedence: a shared screen (presentation, the screen large), a
 * spotlight (speaker, the pinned member large), the teacher's choice, the automatic choice of
 * the tier (DESIGN §4: the grid where it is legible, else the active speaker alone). */
static tf_layout_kind_t pick_layout(tf_room_t *r, const tf_tier_t *t, const member_t **big)
{
    const member_t *screen = member_by_id(r, r->screen), *pin = member_by_id(r, r->spotlight);
    const member_t *speaker = r->active_speaker >= 0 ? r->members[r->active_speaker] : NULL;
    if (screen) {
        *big = screen;
        return TF_LAYOUT_PRESENTATION;
    }
    if (pin) {
        *big = pin;
        return TF_LAYOUT_SPEAKER;
    }
    *big = speaker;
    if (r->layout_choice == TF_LAYOUT_SPEAKER || r->layout_choice == TF_LAYOUT_PRESENTATION)
        return (tf_layout_kind_t)r->layout_choice;
    if (r->layout_choice == TF_LAYOUT_GRID)
        return t->grid_layout;
    return t->grid_layout == TF_LAYOUT_GRID ? r->layout : t->grid_layout;
}

static void encode_pipe(tf_room_t *r, int pipe_i, uint64_t now_us)
{
    pipe_t *p = &r->pipes[pipe_i];
    const tf_tier_t *t = tf_tier_get(p->tier);
    /* Who is shown: everyone, in join order; the large tile of the speaker and presentation
     * layouts goes first (see pick_layout). */
    const member_t *big = NULL;
    tf_layout_kind_t kind = pick_layout(r, t, &big);
    const member_t *order[TF_ROOM_MAX_MEMBERS];
    int n = 0;
    if (kind == TF_LAYOUT_GRID)
        big = NULL; /* the grid keeps join order so tiles do not jump when someone speaks */
    if (big)
        order[n++] = big;
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS && n < TF_LAYOUT_MAX_TILES; i++)
        if (r->members[i] && r->members[i] != big)
            order[n++] = r->members[i];
    if (n == 0)
        return;
    const tf_layout_t *cur = tf_compositor_layout(p->comp);
    int relayout = cur->kind != kind || cur->n != n || p->layout_dirty;
    p->layout_dirty = 0;
    if (relayout)
        tf_compositor_set_layout(p->comp, kind, n);
    for (int i = 0; i < n; i++) {
        const member_t *m = order[i];
        p->order[i] = m->info.id;
        int fresh = m->latest && !CAM_OFF(m) && now_us - m->latest_at_us < FROZEN_US;
        tf_compositor_set_source(p->comp, i, fresh ? m->latest : NULL, m->info.name);
    }
    if (relayout) { /* this tick's frame is the first in the new layout (send_video's ts) */
        uint32_t ts = (uint32_t)tf__room_media_clock(now_us, 90000);
        for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++)
            if (r->members[i] && r->members[i]->pipe == pipe_i)
                tf__room_event(r, r->members[i]->info.id,
                               layout_json(r, p, order, n, ts + r->members[i]->ts_offset));
    }
    tf_compositor_render(p->comp, p->canvas);
    p->canvas->pts_us = (int64_t)now_us;
    set_quant_offsets(r, p, order, n);
    int key = p->want_key && now_us - p->last_key_us >= KEYFRAME_INTERVAL_US;
    tf_venc_packet_t au;
    if (tf_venc_encode(p->enc, p->canvas, key, &au) < 0 || au.size == 0)
        return;
    if (key) {
        p->want_key = 0;
        p->last_key_us = now_us;
        r->stats.keyframes_sent++;
    }
    r->stats.frames_encoded++;
    fan_out(r, pipe_i, &au, now_us);
}

void tf__room_video_tick(tf_room_t *r, uint64_t now_us)
{
    /* Receivers to their pipe (tier changes will come from bandwidth estimation). */
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (!m)
            continue;
        if (m->vrecv) {
            tf_recv_stream_handle_timeout(m->vrecv, (int64_t)now_us);
            decode_frames(r, m, now_us);
        }
        if (!m->info.video.receives || m->pipe >= 0 || m->tier == TF_TIER_AUDIO)
            continue;
        m->pipe = pipe_for(r, m, now_us);
        if (m->pipe >= 0) {
            r->pipes[m->pipe].receivers++;
            r->pipes[m->pipe].want_key = 1;
            r->layout_dirty = 1;
        }
    }
    /* A layout change reaches every pipe at its next frame, however the ticks fall. */
    for (int i = 0; r->layout_dirty && i < MAX_PIPES; i++)
        r->pipes[i].layout_dirty |= r->pipes[i].used;
    r->layout_dirty = 0;
    for (int i = 0; i < MAX_PIPES; i++) {
        pipe_t *p = &r->pipes[i];
        if (!p->used || now_us < p->next_frame_us)
            continue;
        encode_pipe(r, i, now_us);
        const tf_tier_t *t = tf_tier_get(p->tier);
        /* A shared screen: fewer frames, so each gets more of the bitrate (legible text). */
        int fps = r->screen && t->fps > TF_ROOM_SCREEN_FPS ? TF_ROOM_SCREEN_FPS : t->fps;
        if (p->fps != fps && tf_venc_set_fps(p->enc, fps, 1) == 0)
            p->fps = fps; /* the rate control spreads the same bitrate over fewer frames */
        p->next_frame_us += 1000000 / (uint64_t)fps;
        if (p->next_frame_us < now_us) /* fell behind: skip rather than burst */
            p->next_frame_us = now_us + 1000000 / (uint64_t)fps;
    }
}

uint64_t tf__room_video_deadline(const tf_room_t *r)
{
    uint64_t d = UINT64_MAX;
    for (int i = 0; i < MAX_PIPES; i++)
        if (r->pipes[i].used && r->pipes[i].next_frame_us < d)
            d = r->pipes[i].next_frame_us;
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        const member_t *m = r->members[i];
        if (m && m->vrecv) {
            int64_t t = tf_recv_stream_poll_timeout(m->vrecv);
            if (t >= 0 && (uint64_t)t < d)
                d = (uint64_t)t;
        }
    }
    return d;
}
