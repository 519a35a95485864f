/* send_stream.c — per-SSRC send side: sequence numbers, a ring of sent packets for NACK
 * (RTX or plain retransmission), SR counters and reports. No sockets, no clock, no pacing, no
 * malloc after create. */
#include "server/rtc/send_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp_feedback.h"

#define MIN_HISTORY 600

typedef struct hist_slot {
    int64_t seq; /* unwrapped; -1 when empty */
    int64_t last_rtx_us;
    uint16_t len; /* 0: sent but not kept (too big for a slot) */
    bool rtx_done, queued;
} hist_slot_t;

struct tf_send_stream {
    tf_send_stream_config_t cfg;
    hist_slot_t *slots;
    uint8_t *arena;
    int64_t *queue; /* ring of unwrapped sequence numbers */
    size_t q_head, q_len;
    int64_t first_seq, next_seq;
    uint16_t rtx_seq;
    int64_t rtt_us;
    bool have_last;
    uint32_t last_ts;
    int64_t last_write_us;
    tf_send_stats_t st;
};

void tf_send_stream_config_default(tf_send_stream_config_t *cfg, uint32_t ssrc, uint8_t pt,
                                   uint32_t clock_rate)
{
    *cfg = (tf_send_stream_config_t){
        .ssrc = ssrc,
        .payload_type = pt,
        .clock_rate = clock_rate,
        .history_packets = 1024,
        .max_packet_bytes = 1500,
        .retransmit_queue = 256,
    };
}

int tf_send_stream_create(tf_send_stream_t **out, const tf_send_stream_config_t *cfg)
{
    if (!out || !cfg || cfg->history_packets < MIN_HISTORY || cfg->history_packets > 1u << 20 ||
        cfg->max_packet_bytes < 12 || cfg->max_packet_bytes > 65535 || cfg->payload_type > 127 ||
        (cfg->rtx && cfg->rtx_payload_type > 127) || cfg->clock_rate == 0 ||
        cfg->retransmit_queue == 0)
        return -EINVAL;
    tf_send_stream_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->slots = malloc(cfg->history_packets * sizeof(*s->slots));
    s->arena = malloc(cfg->history_packets * cfg->max_packet_bytes);
    s->queue = malloc(cfg->retransmit_queue * sizeof(*s->queue));
    if (!s->slots || !s->arena || !s->queue) {
        tf_send_stream_destroy(&s);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->history_packets; i++)
        s->slots[i] = (hist_slot_t){.seq = -1};
    s->first_seq = s->next_seq = cfg->first_seq;
    s->rtx_seq = cfg->first_rtx_seq;
    *out = s;
    return 0;
}

void tf_send_stream_destroy(tf_send_stream_t **sp)
{
    if (!sp || !*sp)
        return;
    free((*sp)->slots);
    free((*sp)->arena);
    free((*sp)->queue);
    free(*sp);
    *sp = NULL;
}

static size_t slot_index(const tf_send_stream_t *s, int64_t seq)
{
    return (size_t)((uint64_t)seq % s->cfg.history_packets);
}

static void keep(tf_send_stream_t *s, int64_t now_us, const uint8_t *pkt, size_t len,
                 size_t payload_len, uint32_t ts)
{
    size_t i = slot_index(s, s->next_seq);
    hist_slot_t *sl = &s->slots[i];
    *sl = (hist_slot_t){.seq = s->next_seq, .last_rtx_us = 0};
    if (len <= s->cfg.max_packet_bytes) {
        memcpy(s->arena + i * s->cfg.max_packet_bytes, pkt, len);
        sl->len = (uint16_t)len;
    }
    s->next_seq++;
    s->st.packets++;
    s->st.octets += (uint32_t)payload_len;
    s->st.bytes += len;
    s->have_last = true;
    s->last_ts = ts;
    s->last_write_us = now_us;
}

int tf_send_stream_write(tf_send_stream_t *s, int64_t now_us, tf_rtp_packet_t *p, uint8_t *out,
                         size_t cap)
{
    p->version = 2;
    p->ssrc = s->cfg.ssrc;
    p->payload_type = s->cfg.payload_type;
    p->seq = (uint16_t)s->next_seq;
    int n = tf_rtp_marshal_to(p, out, cap);
    if (n < 0)
        return n;
    keep(s, now_us, out, (size_t)n, p->payload_len, p->timestamp);
    return n;
}

int tf_send_stream_write_rtp(tf_send_stream_t *s, int64_t now_us, uint8_t *pkt, size_t len)
{
    tf_rtp_packet_t p;
    if (tf_rtp_parse(&p, pkt, len) != 0)
        return -EPROTO;
    if (tf_rtp_rewrite_ssrc(pkt, len, s->cfg.ssrc) ||
        tf_rtp_rewrite_seq(pkt, len, (uint16_t)s->next_seq) ||
        tf_rtp_rewrite_payload_type(pkt, len, s->cfg.payload_type))
        return -EPROTO;
    keep(s, now_us, pkt, len, p.payload_len, p.timestamp);
    return 0;
}

/* The unwrapped value of a NACKed sequence number, or -1 if it was never sent. */
static int64_t nacked_seq(const tf_send_stream_t *s, uint16_t seq)
{
    if (s->next_seq == s->first_seq)
        return -1;
    int64_t last = s->next_seq - 1;
    uint16_t back = (uint16_t)((uint16_t)last - seq);
    if (back >= 0x8000) /* "newer" than anything sent */
        return -1;
    int64_t e = last - back;
    return e < s->first_seq ? -1 : e;
}

void tf_send_stream_on_nack(tf_send_stream_t *s, int64_t now_us, const uint16_t *seq, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s->st.nack_seqs++;
        int64_t e = nacked_seq(s, seq[i]);
        if (e < 0) {
            s->st.nack_unknown++;
            continue;
        }
        hist_slot_t *sl = &s->slots[slot_index(s, e)];
        if (s->next_seq - e > (int64_t)s->cfg.history_packets || sl->seq != e) {
            s->st.nack_too_old++;
            continue;
        }
        if (sl->len == 0) {
            s->st.not_kept++;
            continue;
        }
        if (sl->queued || (sl->rtx_done && now_us - sl->last_rtx_us < s->rtt_us)) {
            s->st.nack_throttled++;
            continue;
        }
        if (s->q_len == s->cfg.retransmit_queue) {
            s->st.nack_queue_full++;
            continue;
        }
        s->queue[(s->q_head + s->q_len++) % s->cfg.retransmit_queue] = e;
        sl->queued = true;
    }
}

void tf_send_stream_on_nack_rtcp(tf_send_stream_t *s, int64_t now_us, const tf_rtcp_nack_t *nack)
{
    uint16_t lost[256];
    size_t done = 0;
    /* A NACK can list up to 17 losses per pair; feed them in chunks of whole pairs. */
    while (done < nack->pair_count) {
        tf_rtcp_nack_t part = *nack;
        part.fci = nack->fci + done * 4;
        part.pair_count = nack->pair_count - done;
        if (part.pair_count > 15)
            part.pair_count = 15;
        int n = tf_rtcp_nack_lost(&part, lost, sizeof(lost) / sizeof(lost[0]));
        if (n < 0)
            return;
        tf_send_stream_on_nack(s, now_us, lost, (size_t)n);
        done += part.pair_count;
    }
}

int tf_send_stream_poll_retransmit(tf_send_stream_t *s, int64_t now_us, uint8_t *out, size_t cap)
{
    while (s->q_len) {
        int64_t e = s->queue[s->q_head];
        size_t i = slot_index(s, e);
        hist_slot_t *sl = &s->slots[i];
        if (sl->seq != e || sl->len == 0) { /* overwritten while queued */
            s->q_head = (s->q_head + 1) % s->cfg.retransmit_queue;
            s->q_len--;
            s->st.nack_too_old++;
            continue;
        }
        const uint8_t *pkt = s->arena + i * s->cfg.max_packet_bytes;
        int n;
        if (s->cfg.rtx) {
            n = tf_rtp_rtx_wrap(pkt, sl->len, s->cfg.rtx_payload_type, s->cfg.rtx_ssrc, s->rtx_seq,
                                out, cap);
            if (n == -ENOBUFS)
                return n;
            if (n > 0)
                s->rtx_seq++;
        } else {
            if (cap < sl->len)
                return -ENOBUFS;
            memcpy(out, pkt, sl->len);
            n = sl->len;
        }
        s->q_head = (s->q_head + 1) % s->cfg.retransmit_queue;
        s->q_len--;
        sl->queued = false;
        if (n < 0)
            continue;
        sl->rtx_done = true;
        sl->last_rtx_us = now_us;
        s->st.rtx_packets++;
        s->st.rtx_bytes += (uint64_t)n;
        return n;
    }
    return -EAGAIN;
}

void tf_send_stream_set_rtt(tf_send_stream_t *s, int64_t rtt_us)
{
    if (rtt_us > 0)
        s->rtt_us = rtt_us;
}

int64_t tf_send_stream_on_report_block(tf_send_stream_t *s, uint64_t ntp_now,
                                       const tf_rtcp_report_block_t *rb)
{
    s->st.fraction_lost = rb->fraction_lost;
    s->st.cumulative_lost = rb->cumulative_lost;
    if (rb->lsr == 0)
        return -EAGAIN;
    uint32_t rtt = tf_rtcp_ntp_compact(ntp_now) - rb->lsr - rb->dlsr; /* 1/65536 s */
    if (rtt >= 0x80000000u)                                           /* clocks disagree */
        return -EAGAIN;
    int64_t us = (int64_t)rtt * 1000000 / 65536;
    tf_send_stream_set_rtt(s, us > 0 ? us : 1);
    return s->rtt_us;
}

int tf_send_stream_build_sr(tf_send_stream_t *s, int64_t now_us, uint64_t ntp,
                            const tf_rtcp_report_block_t *rb, size_t n_rb, uint8_t *out, size_t cap)
{
    if (n_rb > TF_RTCP_MAX_COUNT || (n_rb && !rb))
        return -EINVAL;
    tf_rtcp_packet_t p;
    memset(&p, 0, sizeof(p));
    p.type = TF_RTCP_SR;
    p.sr.ssrc = s->cfg.ssrc;
    p.sr.ntp = ntp;
    if (s->have_last)
        p.sr.rtp_ts = s->last_ts + (uint32_t)((now_us - s->last_write_us) *
                                              (int64_t)s->cfg.clock_rate / 1000000);
    p.sr.packet_count = s->st.packets;
    p.sr.octet_count = s->st.octets;
    p.sr.rb_count = (uint8_t)n_rb;
    if (n_rb)
        memcpy(p.sr.rb, rb, n_rb * sizeof(*rb));
    return tf_rtcp_marshal_to(&p, out, cap);
}

void tf_send_stream_get_stats(const tf_send_stream_t *s, tf_send_stats_t *out)
{
    *out = s->st;
    out->rtt_us = s->rtt_us;
    out->next_seq = (uint16_t)s->next_seq;
}
