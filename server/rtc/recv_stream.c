/* recv_stream.c — per-SSRC receive side: reorder buffer keyed by unwrapped sequence numbers,
 * RTX unwrap, RTT-aware NACK, frame assembly through the depacketizers, PLI on unrecoverable
 * loss, RFC 3550 receiver statistics. No sockets, no clock, no malloc after create. */
#include "server/rtc/recv_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"
#include "server/rtc/rtp_opus.h"
#include "server/rtc/rtp_vp8.h"

/* RFC 3550 A.1: a jump of this many packets or more is not a gap but a possible restart; it is
 * believed after two sequential packets. Buffers stay below it so a late packet never is one. */
#define MAX_DROPOUT 3000
#define MAX_BUFFER 2048

enum slot_state { SLOT_EMPTY, SLOT_MISSING, SLOT_RECEIVED, SLOT_LOST };

typedef struct slot {
    int64_t seq;           /* unwrapped */
    int64_t first_seen_us; /* MISSING: when the gap was found; RECEIVED: arrival */
    int64_t last_nack_us;
    uint32_t ts;
    uint16_t len;
    uint8_t state, retries;
    bool marker;
} slot_t;

struct tf_recv_stream {
    tf_recv_stream_config_t cfg;
    bool video;
    size_t mask;
    slot_t *slots;
    uint8_t *arena;   /* buffer_packets × max_payload */
    uint8_t *scratch; /* RTX unwrap */
    size_t scratch_cap;
    uint8_t *frame_buf;
    union {
        tf_rtp_h264_depacketizer_t h264;
        tf_rtp_vp8_depacketizer_t vp8;
        tf_rtp_opus_depacketizer_t opus;
    } dp;

    bool started, discontinuity;
    bool holding; /* the first reorder_wait_us: earlier packets may still come */
    int64_t start_us;
    int64_t head;    /* next sequence number to hand to the depacketizer */
    int64_t highest; /* highest sequence number stored or found missing; head - 1 if none */
    size_t missing;
    uint16_t bad_seq; /* A.1 probation after a big jump */
    bool have_bad_seq;
    int64_t rtt_us;

    bool waiting_key, pli_pending, have_last_pli;
    int64_t last_pli_us;
    int64_t frame_arrival_us;
    uint32_t lost_run;

    /* RFC 3550 A.3 / A.8 */
    int64_t base_seq, max_seq, expected_prior;
    uint64_t received, received_prior;
    bool have_transit;
    uint32_t transit;
    int64_t jitter_q4;
    bool have_sr;
    uint32_t sr_compact;
    int64_t sr_arrival_us;

    tf_recv_stats_t st;
};

void tf_recv_stream_config_default(tf_recv_stream_config_t *cfg, tf_recv_codec_t codec,
                                   uint32_t ssrc, uint8_t payload_type)
{
    bool audio = codec == TF_RECV_CODEC_OPUS;
    *cfg = (tf_recv_stream_config_t){
        .codec = codec,
        .ssrc = ssrc,
        .payload_type = payload_type,
        .clock_rate = audio ? TF_RTP_OPUS_CLOCK : 90000,
        .buffer_packets = audio ? 64 : 512,
        .max_payload = 1500,
        .max_frame_bytes = audio ? 0 : 1u << 20,
        .nack = !audio,
        .nack_max = 256,
        .nack_max_retries = 10,
        .reorder_wait_us = audio ? 20000 : 10000,
        .min_nack_interval_us = 20000,
        .min_give_up_us = 200000,
        .initial_rtt_us = 100000,
        .pli_interval_us = 500000,
    };
}

static bool config_ok(const tf_recv_stream_config_t *c)
{
    bool video = c->codec == TF_RECV_CODEC_H264 || c->codec == TF_RECV_CODEC_VP8;
    if (!video && c->codec != TF_RECV_CODEC_OPUS)
        return false;
    if (c->buffer_packets < 16 || c->buffer_packets > MAX_BUFFER ||
        (c->buffer_packets & (c->buffer_packets - 1)))
        return false;
    if (c->payload_type > 127 || (c->rtx && c->rtx_payload_type > 127) || c->clock_rate == 0)
        return false;
    if (c->max_payload < 16 || c->max_payload > 65535 || (video && c->max_frame_bytes < 64))
        return false;
    if (c->nack_max < 1 || c->nack_max_retries < 0 || c->nack_max_retries > 255)
        return false;
    return c->reorder_wait_us >= 0 && c->min_nack_interval_us > 0 && c->min_give_up_us > 0 &&
           c->initial_rtt_us > 0 && c->pli_interval_us > 0;
}

static void depacketizer_reset(tf_recv_stream_t *s)
{
    if (s->cfg.codec == TF_RECV_CODEC_H264)
        tf_rtp_h264_depacketize_reset(&s->dp.h264);
    else if (s->cfg.codec == TF_RECV_CODEC_VP8)
        tf_rtp_vp8_depacketize_reset(&s->dp.vp8);
    else
        tf_rtp_opus_depacketize_reset(&s->dp.opus);
}

int tf_recv_stream_create(tf_recv_stream_t **out, const tf_recv_stream_config_t *cfg)
{
    if (!out || !cfg || !config_ok(cfg))
        return -EINVAL;
    tf_recv_stream_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->video = cfg->codec != TF_RECV_CODEC_OPUS;
    s->mask = cfg->buffer_packets - 1;
    s->slots = calloc(cfg->buffer_packets, sizeof(*s->slots));
    s->arena = malloc(cfg->buffer_packets * cfg->max_payload);
    s->scratch_cap = cfg->max_payload + 2048; /* room for any RTP header */
    s->scratch = malloc(s->scratch_cap);
    if (s->video)
        s->frame_buf = malloc(cfg->max_frame_bytes);
    if (!s->slots || !s->arena || !s->scratch || (s->video && !s->frame_buf))
        goto err;
    if (cfg->codec == TF_RECV_CODEC_H264)
        tf_rtp_h264_depacketize_init(&s->dp.h264, s->frame_buf, cfg->max_frame_bytes);
    else if (cfg->codec == TF_RECV_CODEC_VP8)
        tf_rtp_vp8_depacketize_init(&s->dp.vp8, s->frame_buf, cfg->max_frame_bytes);
    else
        tf_rtp_opus_depacketize_init(&s->dp.opus);
    s->rtt_us = cfg->initial_rtt_us;
    s->waiting_key = s->video; /* a decoder starts at a key frame */
    *out = s;
    return 0;
err:
    tf_recv_stream_destroy(&s);
    return -ENOMEM;
}

void tf_recv_stream_destroy(tf_recv_stream_t **sp)
{
    if (!sp || !*sp)
        return;
    tf_recv_stream_t *s = *sp;
    free(s->slots);
    free(s->arena);
    free(s->scratch);
    free(s->frame_buf);
    free(s);
    *sp = NULL;
}

static slot_t *slot_at(tf_recv_stream_t *s, int64_t seq)
{
    return &s->slots[(uint64_t)seq & s->mask];
}

static uint8_t *payload_at(tf_recv_stream_t *s, int64_t seq)
{
    return s->arena + ((uint64_t)seq & s->mask) * s->cfg.max_payload;
}

/* The unwrapped value closest to the highest one seen (not to the last packet, so one stray
 * packet cannot drag the reference away). */
static int64_t unwrap(const tf_recv_stream_t *s, uint16_t seq)
{
    uint16_t d = (uint16_t)(seq - (uint16_t)s->highest);
    return s->highest + (d < 0x8000 ? (int64_t)d : (int64_t)d - 0x10000);
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t give_up_after(const tf_recv_stream_t *s)
{
    if (!s->cfg.nack)
        return s->cfg.reorder_wait_us;
    return max64(2 * s->rtt_us, s->cfg.min_give_up_us);
}

static int64_t pli_interval(const tf_recv_stream_t *s)
{
    return max64(2 * s->rtt_us, s->cfg.pli_interval_us);
}

static void need_keyframe(tf_recv_stream_t *s)
{
    if (!s->video)
        return;
    if (!s->waiting_key || !s->pli_pending) {
        if (!s->waiting_key)
            s->st.keyframe_requests++;
        s->waiting_key = true;
        s->pli_pending = true;
    }
}

void tf_recv_stream_request_keyframe(tf_recv_stream_t *s)
{
    need_keyframe(s);
}

static void give_up(tf_recv_stream_t *s, slot_t *sl)
{
    sl->state = SLOT_LOST;
    s->missing--;
    s->st.given_up++;
    need_keyframe(s);
}

void tf_recv_stream_handle_timeout(tf_recv_stream_t *s, int64_t now_us)
{
    if (s->holding && now_us - s->start_us >= s->cfg.reorder_wait_us)
        s->holding = false;
    if (!s->missing)
        return;
    int64_t after = give_up_after(s);
    for (int64_t q = s->head; q <= s->highest; q++) {
        slot_t *sl = slot_at(s, q);
        if (sl->state == SLOT_MISSING && now_us - sl->first_seen_us >= after)
            give_up(s, sl);
    }
}

static void stats_init(tf_recv_stream_t *s, int64_t e)
{
    s->base_seq = e;
    s->max_seq = e - 1;
    s->received = 0;
    s->expected_prior = 0;
    s->received_prior = 0;
    s->have_transit = false;
    s->jitter_q4 = 0;
}

static void buffer_init(tf_recv_stream_t *s, int64_t e)
{
    for (size_t i = 0; i <= s->mask; i++)
        s->slots[i].state = SLOT_EMPTY;
    s->head = e;
    s->highest = e - 1;
    s->missing = 0;
    s->discontinuity = true;
    stats_init(s, e);
}

/* RFC 3550 A.8: J += (|D| - J) / 16 over in-order packets, in RTP timestamp units. */
static void stats_update(tf_recv_stream_t *s, int64_t now_us, int64_t e, uint32_t ts)
{
    s->received++;
    if (e <= s->max_seq)
        return;
    s->max_seq = e;
    /* Split so the product cannot overflow whatever the clock's epoch (only the low 32 bits of
     * the arrival time in RTP units matter). */
    uint64_t us = (uint64_t)now_us;
    uint32_t arrival = (uint32_t)((us / 1000000) * s->cfg.clock_rate +
                                  (us % 1000000) * s->cfg.clock_rate / 1000000);
    uint32_t transit = arrival - ts;
    if (s->have_transit) {
        int32_t d = (int32_t)(transit - s->transit);
        int64_t ad = d < 0 ? -(int64_t)d : d;
        s->jitter_q4 += ad - ((s->jitter_q4 + 8) >> 4);
    }
    s->transit = transit;
    s->have_transit = true;
}

/* The window moved past [head, new_head): whatever sat there is dropped. */
static void buffer_overflow(tf_recv_stream_t *s, int64_t new_head)
{
    for (int64_t q = s->head; q < new_head && q <= s->highest; q++) {
        slot_t *sl = slot_at(s, q);
        if (sl->state == SLOT_MISSING)
            s->missing--;
        sl->state = SLOT_EMPTY;
    }
    if (s->highest < new_head - 1)
        s->highest = new_head - 1;
    s->head = new_head;
    s->discontinuity = true;
    s->st.buffer_overflows++;
    need_keyframe(s);
}

static void nack_overflow(tf_recv_stream_t *s)
{
    for (int64_t q = s->head; q <= s->highest && s->missing > s->cfg.nack_max; q++) {
        slot_t *sl = slot_at(s, q);
        if (sl->state == SLOT_MISSING)
            give_up(s, sl);
    }
    s->st.nack_overflows++;
}

static int store(tf_recv_stream_t *s, int64_t now_us, const tf_rtp_packet_t *p, bool rtx)
{
    if (!s->started) {
        s->started = true;
        s->highest = p->seq; /* so that unwrap() returns the sequence number itself */
        buffer_init(s, p->seq);
        s->holding = true;
        s->start_us = now_us;
    }
    int64_t e = unwrap(s, p->seq);
    if (e < s->head - MAX_DROPOUT || e > s->highest + MAX_DROPOUT) {
        if (!s->have_bad_seq || p->seq != s->bad_seq) {
            s->have_bad_seq = true;
            s->bad_seq = (uint16_t)(p->seq + 1);
            return 0; /* A.1: one packet after a big jump is not believed yet */
        }
        /* Two in a row: the sender restarted its sequence. */
        s->st.restarts++;
        s->highest = p->seq;
        buffer_init(s, p->seq);
        e = p->seq;
        need_keyframe(s);
    }
    s->have_bad_seq = false;
    if (!rtx)
        stats_update(s, now_us, e, p->timestamp);
    if (e < s->head && s->holding && s->highest - e < (int64_t)s->cfg.buffer_packets) {
        /* Reordered around the very first packet: open the window further back. */
        for (int64_t q = e + 1; q < s->head; q++) {
            *slot_at(s, q) = (slot_t){.seq = q, .first_seen_us = now_us, .state = SLOT_MISSING};
            s->missing++;
        }
        s->head = e;
        if (e < s->base_seq)
            s->base_seq = e;
        *slot_at(s, e) = (slot_t){.seq = e, .state = SLOT_EMPTY};
    }
    if (e < s->head) {
        s->st.late++;
        return 0;
    }
    if (p->payload_len > s->cfg.max_payload) {
        s->st.oversized++;
        return -EMSGSIZE;
    }
    if (e - s->head >= (int64_t)s->cfg.buffer_packets)
        buffer_overflow(s, e - (int64_t)s->cfg.buffer_packets + 1);
    slot_t *sl = slot_at(s, e);
    if (e <= s->highest) {
        if (sl->state == SLOT_RECEIVED) {
            s->st.duplicates++;
            return 0;
        }
        if (sl->state == SLOT_LOST) { /* too late: already given up on */
            s->st.late++;
            return 0;
        }
        if (sl->state == SLOT_MISSING) {
            s->missing--;
            s->st.recovered++;
        }
    } else {
        for (int64_t q = s->highest + 1; q < e; q++) {
            slot_t *m = slot_at(s, q);
            *m = (slot_t){.seq = q, .first_seen_us = now_us, .state = SLOT_MISSING};
            s->missing++;
        }
        s->highest = e;
    }
    *sl = (slot_t){
        .seq = e,
        .first_seen_us = now_us,
        .ts = p->timestamp,
        .len = (uint16_t)p->payload_len,
        .state = SLOT_RECEIVED,
        .marker = p->marker,
    };
    if (p->payload_len)
        memcpy(payload_at(s, e), p->payload, p->payload_len);
    s->st.packets++;
    s->st.bytes += p->payload_len;
    if (s->missing > s->cfg.nack_max)
        nack_overflow(s);
    return 0;
}

int tf_recv_stream_push(tf_recv_stream_t *s, int64_t now_us, const uint8_t *pkt, size_t len)
{
    tf_rtp_packet_t p;
    if (tf_rtp_parse(&p, pkt, len) != 0)
        return -EPROTO;
    bool rtx = false;
    if (s->cfg.rtx && p.ssrc == s->cfg.rtx_ssrc) {
        if (p.payload_type != s->cfg.rtx_payload_type)
            return -EINVAL;
        s->st.rtx_packets++;
        if (p.payload_len < 2) { /* RFC 4588 padding: a bandwidth probe */
            s->st.rtx_padding++;
            tf_recv_stream_handle_timeout(s, now_us);
            return 0;
        }
        int n = tf_rtp_rtx_unwrap(pkt, len, s->cfg.payload_type, s->cfg.ssrc, s->scratch,
                                  s->scratch_cap);
        if (n < 0 || tf_rtp_parse(&p, s->scratch, (size_t)n) != 0) {
            s->st.oversized++;
            return n == -ENOBUFS ? -EMSGSIZE : -EPROTO;
        }
        rtx = true;
    } else if (p.ssrc != s->cfg.ssrc || p.payload_type != s->cfg.payload_type) {
        return -EINVAL;
    }
    int err = store(s, now_us, &p, rtx);
    tf_recv_stream_handle_timeout(s, now_us);
    return err;
}

/* While waiting for a key frame behind a gap, jump to a key frame already in the buffer: what
 * lies before it is useless to the decoder anyway. */
static bool skip_to_keyframe(tf_recv_stream_t *s)
{
    for (int64_t q = s->head + 1; q <= s->highest; q++) {
        slot_t *sl = slot_at(s, q);
        if (sl->state != SLOT_RECEIVED || sl->len == 0)
            continue;
        const uint8_t *pl = payload_at(s, q);
        bool key;
        if (s->cfg.codec == TF_RECV_CODEC_H264) {
            tf_rtp_h264_payload_info_t info;
            tf_rtp_h264_payload_info(pl, sl->len, &info);
            key = info.key_start;
        } else {
            key = tf_rtp_vp8_payload_is_keyframe(pl, sl->len);
        }
        if (!key)
            continue;
        for (int64_t r = s->head; r < q; r++) {
            slot_t *x = slot_at(s, r);
            if (x->state == SLOT_MISSING) {
                s->missing--;
                s->st.given_up++;
            }
            x->state = SLOT_EMPTY;
        }
        s->head = q;
        s->discontinuity = true;
        return true;
    }
    return false;
}

static uint64_t depacketizer_incomplete(const tf_recv_stream_t *s)
{
    if (s->cfg.codec == TF_RECV_CODEC_H264)
        return s->dp.h264.incomplete;
    if (s->cfg.codec == TF_RECV_CODEC_VP8)
        return s->dp.vp8.incomplete;
    return 0;
}

static uint64_t depacketizer_malformed(const tf_recv_stream_t *s)
{
    if (s->cfg.codec == TF_RECV_CODEC_H264)
        return s->dp.h264.malformed;
    if (s->cfg.codec == TF_RECV_CODEC_VP8)
        return s->dp.vp8.malformed;
    return s->dp.opus.malformed;
}

/* Feeds one slot; true with *out filled when a frame completed. */
static bool feed(tf_recv_stream_t *s, const slot_t *sl, const uint8_t *pl, tf_recv_frame_t *out)
{
    uint16_t seq = (uint16_t)sl->seq;
    memset(out, 0, sizeof(*out));
    if (s->cfg.codec == TF_RECV_CODEC_H264) {
        tf_rtp_h264_frame_t f;
        tf_rtp_h264_depacketize_push(&s->dp.h264, seq, sl->ts, sl->marker, pl, sl->len);
        if (tf_rtp_h264_depacketize_poll(&s->dp.h264, &f) != 0)
            return false;
        *out = (tf_recv_frame_t){.data = f.data,
                                 .size = f.size,
                                 .timestamp = f.timestamp,
                                 .first_seq = f.first_seq,
                                 .last_seq = f.last_seq,
                                 .keyframe = f.keyframe &&
                                             (!s->cfg.h264_key_needs_sps_pps || f.has_sps_pps)};
    } else if (s->cfg.codec == TF_RECV_CODEC_VP8) {
        tf_rtp_vp8_frame_t f;
        tf_rtp_vp8_depacketize_push(&s->dp.vp8, seq, sl->ts, sl->marker, pl, sl->len);
        if (tf_rtp_vp8_depacketize_poll(&s->dp.vp8, &f) != 0)
            return false;
        *out = (tf_recv_frame_t){.data = f.data,
                                 .size = f.size,
                                 .timestamp = f.timestamp,
                                 .first_seq = f.first_seq,
                                 .last_seq = f.last_seq,
                                 .keyframe = f.keyframe};
    } else {
        tf_rtp_opus_frame_t f;
        tf_rtp_opus_depacketize_push(&s->dp.opus, seq, sl->ts, sl->marker, pl, sl->len);
        if (tf_rtp_opus_depacketize_poll(&s->dp.opus, &f) != 0)
            return false;
        *out = (tf_recv_frame_t){.data = f.data,
                                 .size = f.size,
                                 .timestamp = f.timestamp,
                                 .first_seq = f.seq,
                                 .last_seq = f.seq,
                                 .samples = f.samples,
                                 .lost_before = f.lost_before};
    }
    return true;
}

int tf_recv_stream_poll_frame(tf_recv_stream_t *s, tf_recv_frame_t *out)
{
    if (s->holding)
        return -EAGAIN;
    while (s->started && s->head <= s->highest) {
        slot_t *sl = slot_at(s, s->head);
        if (sl->state == SLOT_MISSING) {
            if (s->video && s->waiting_key && skip_to_keyframe(s))
                continue;
            return -EAGAIN;
        }
        if (sl->state != SLOT_RECEIVED) { /* given up on */
            sl->state = SLOT_EMPTY;
            s->head++;
            s->discontinuity = true;
            s->lost_run++;
            continue;
        }
        if (s->discontinuity) {
            depacketizer_reset(s);
            s->frame_arrival_us = 0;
            s->discontinuity = false;
        }
        uint64_t incomplete = depacketizer_incomplete(s), malformed = depacketizer_malformed(s);
        sl->state = SLOT_EMPTY;
        s->head++;
        if (sl->first_seen_us > s->frame_arrival_us)
            s->frame_arrival_us = sl->first_seen_us;
        bool got = feed(s, sl, payload_at(s, sl->seq), out);
        s->st.malformed += depacketizer_malformed(s) - malformed;
        if (depacketizer_incomplete(s) != incomplete) {
            s->st.frames_incomplete += depacketizer_incomplete(s) - incomplete;
            need_keyframe(s);
        }
        if (!got)
            continue;
        out->arrival_us = s->frame_arrival_us;
        s->frame_arrival_us = 0;
        if (s->video && s->waiting_key && !out->keyframe) {
            s->st.frames_dropped++;
            if (!s->have_last_pli)
                s->pli_pending = true;
            continue;
        }
        if (out->keyframe) {
            s->waiting_key = false;
            s->pli_pending = false;
            s->st.keyframes++;
        }
        out->lost_before += s->lost_run;
        s->lost_run = 0;
        s->st.frames++;
        return 0;
    }
    return -EAGAIN;
}

static int64_t nack_due(const tf_recv_stream_t *s, const slot_t *sl)
{
    if (!s->cfg.nack || sl->retries >= s->cfg.nack_max_retries)
        return INT64_MAX;
    if (sl->retries == 0)
        return sl->first_seen_us + s->cfg.reorder_wait_us;
    return sl->last_nack_us + max64(s->rtt_us, s->cfg.min_nack_interval_us);
}

static int64_t pli_due(const tf_recv_stream_t *s)
{
    if (!s->video || (!s->pli_pending && !(s->waiting_key && s->have_last_pli)))
        return INT64_MAX;
    return s->have_last_pli ? s->last_pli_us + pli_interval(s) : 0;
}

int tf_recv_stream_poll_feedback(tf_recv_stream_t *s, int64_t now_us, tf_recv_feedback_t *out)
{
    tf_recv_stream_handle_timeout(s, now_us);
    out->nack_count = 0;
    out->pli = false;
    for (int64_t q = s->head; s->missing && q <= s->highest; q++) {
        slot_t *sl = slot_at(s, q);
        if (sl->state != SLOT_MISSING || nack_due(s, sl) > now_us)
            continue;
        if (out->nack_count == TF_RECV_NACK_BATCH)
            break;
        out->nack[out->nack_count++] = (uint16_t)q;
        sl->retries++;
        sl->last_nack_us = now_us;
    }
    if (pli_due(s) <= now_us) {
        out->pli = true;
        s->pli_pending = false;
        s->have_last_pli = true;
        s->last_pli_us = now_us;
        s->st.plis++;
    }
    if (out->nack_count) {
        s->st.nack_seqs += out->nack_count;
        s->st.nack_polls++;
    }
    return out->nack_count || out->pli ? 0 : -EAGAIN;
}

int64_t tf_recv_stream_poll_timeout(const tf_recv_stream_t *s)
{
    int64_t t = pli_due(s);
    int64_t after = give_up_after(s);
    if (s->holding && s->start_us + s->cfg.reorder_wait_us < t)
        t = s->start_us + s->cfg.reorder_wait_us;
    for (int64_t q = s->head; s->missing && q <= s->highest; q++) {
        const slot_t *sl = &s->slots[(uint64_t)q & s->mask];
        if (sl->state != SLOT_MISSING)
            continue;
        int64_t due = nack_due(s, sl);
        if (due < t)
            t = due;
        if (sl->first_seen_us + after < t)
            t = sl->first_seen_us + after;
    }
    return t;
}

void tf_recv_stream_set_rtt(tf_recv_stream_t *s, int64_t rtt_us)
{
    if (rtt_us > 0)
        s->rtt_us = rtt_us;
}

void tf_recv_stream_on_sr(tf_recv_stream_t *s, int64_t now_us, const tf_rtcp_sr_t *sr)
{
    s->have_sr = true;
    s->sr_compact = tf_rtcp_ntp_compact(sr->ntp);
    s->sr_arrival_us = now_us;
}

int tf_recv_stream_report_block(tf_recv_stream_t *s, int64_t now_us, tf_rtcp_report_block_t *rb)
{
    if (!s->started)
        return -EAGAIN;
    int64_t expected = s->max_seq - s->base_seq + 1;
    int64_t lost = expected - (int64_t)s->received;
    int64_t expected_interval = expected - s->expected_prior;
    int64_t received_interval = (int64_t)(s->received - s->received_prior);
    int64_t lost_interval = expected_interval - received_interval;
    s->expected_prior = expected;
    s->received_prior = s->received;
    memset(rb, 0, sizeof(*rb));
    rb->ssrc = s->cfg.ssrc;
    rb->fraction_lost = expected_interval <= 0 || lost_interval <= 0
                            ? 0
                            : (uint8_t)(lost_interval >= expected_interval
                                            ? 255
                                            : (lost_interval << 8) / expected_interval);
    rb->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    rb->highest_seq = (uint32_t)s->max_seq;
    rb->jitter = (uint32_t)(s->jitter_q4 >> 4);
    if (s->have_sr) {
        rb->lsr = s->sr_compact;
        rb->dlsr = (uint32_t)((now_us - s->sr_arrival_us) * 65536 / 1000000);
    }
    return 0;
}

void tf_recv_stream_get_stats(const tf_recv_stream_t *s, tf_recv_stats_t *out)
{
    *out = s->st;
    out->waiting_keyframe = s->waiting_key;
    out->rtt_us = s->rtt_us;
    out->missing = s->missing;
}
