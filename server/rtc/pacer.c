/* pacer.c — leaky-bucket pacer: a slot pool with one FIFO per kind, drained by priority while a
 * byte budget that grows at the target rate allows. No sockets, no clock, no malloc after
 * create. */
#include "server/rtc/pacer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The budget is kept in bit-microseconds (bits × 10^6) so that rate × elapsed µs adds up
 * exactly, with no rounding drift however often the pacer is polled. */
#define US_PER_S 1000000

typedef struct pslot {
    int64_t queued_at;
    uint32_t len;
    int32_t next;
    uint8_t kind;
} pslot_t;

struct tf_pacer {
    tf_pacer_config_t cfg;
    pslot_t *slots;
    uint8_t *arena;
    int32_t free_head;
    int32_t head[TF_PACER_KINDS], tail[TF_PACER_KINDS];
    int32_t released; /* handed out by the last poll, freed at the next call */
    int64_t budget, last_us;
    bool have_time;
    tf_pacer_stats_t st;
};

void tf_pacer_config_default(tf_pacer_config_t *cfg, uint64_t rate_bps)
{
    *cfg = (tf_pacer_config_t){
        .rate_bps = rate_bps,
        .max_packets = 512,
        .max_packet_bytes = 1500,
        .burst_us = 5000,
        .max_debt_us = 500000,
    };
}

static bool rate_ok(uint64_t rate_bps)
{
    return rate_bps > 0 && rate_bps <= 100000000000ull; /* 100 Gbit/s keeps the math in range */
}

int tf_pacer_create(tf_pacer_t **out, const tf_pacer_config_t *cfg)
{
    if (!out || !cfg || !rate_ok(cfg->rate_bps) || cfg->max_packets < 1 ||
        cfg->max_packets > 1u << 20 || cfg->max_packet_bytes < 1 || cfg->max_packet_bytes > 65535 ||
        cfg->burst_us < 0 || cfg->burst_us > US_PER_S || cfg->max_debt_us < 0 ||
        cfg->max_debt_us > 10 * US_PER_S)
        return -EINVAL;
    tf_pacer_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    p->slots = malloc(cfg->max_packets * sizeof(*p->slots));
    p->arena = malloc(cfg->max_packets * cfg->max_packet_bytes);
    if (!p->slots || !p->arena) {
        tf_pacer_destroy(&p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->max_packets; i++)
        p->slots[i].next = i + 1 < cfg->max_packets ? (int32_t)(i + 1) : -1;
    p->free_head = 0;
    for (int k = 0; k < TF_PACER_KINDS; k++)
        p->head[k] = p->tail[k] = -1;
    p->released = -1;
    *out = p;
    return 0;
}

void tf_pacer_destroy(tf_pacer_t **pp)
{
    if (!pp || !*pp)
        return;
    free((*pp)->slots);
    free((*pp)->arena);
    free(*pp);
    *pp = NULL;
}

static void refill(tf_pacer_t *p, int64_t now_us)
{
    if (!p->have_time) {
        p->have_time = true;
        p->last_us = now_us;
        return;
    }
    if (now_us <= p->last_us)
        return;
    int64_t cap = (int64_t)p->cfg.rate_bps * p->cfg.burst_us;
    int64_t dt = now_us - p->last_us;
    if (dt > 10 * US_PER_S) /* long idle: the cap is reached anyway, keep the product small */
        dt = 10 * US_PER_S;
    p->budget += (int64_t)p->cfg.rate_bps * dt;
    if (p->budget > cap)
        p->budget = cap;
    p->last_us = now_us;
}

static void charge(tf_pacer_t *p, size_t len)
{
    p->budget -= (int64_t)len * 8 * US_PER_S;
    int64_t floor = -(int64_t)p->cfg.rate_bps * p->cfg.max_debt_us;
    if (p->budget < floor)
        p->budget = floor;
}

static void free_released(tf_pacer_t *p)
{
    if (p->released < 0)
        return;
    p->slots[p->released].next = p->free_head;
    p->free_head = p->released;
    p->released = -1;
}

static int32_t pop(tf_pacer_t *p, int kind)
{
    int32_t i = p->head[kind];
    if (i < 0)
        return -1;
    p->head[kind] = p->slots[i].next;
    if (p->head[kind] < 0)
        p->tail[kind] = -1;
    p->st.queued_packets--;
    p->st.queued_bytes -= p->slots[i].len;
    return i;
}

int tf_pacer_set_rate(tf_pacer_t *p, int64_t now_us, uint64_t rate_bps)
{
    if (!rate_ok(rate_bps))
        return -EINVAL;
    refill(p, now_us);
    /* Saved budget and debt are bits: a debt takes longer to pay off at a lower rate, as the
     * bottleneck queue it stands for does. Only the bounds follow the new rate. */
    p->cfg.rate_bps = rate_bps;
    int64_t cap = (int64_t)rate_bps * p->cfg.burst_us;
    int64_t floor = -(int64_t)rate_bps * p->cfg.max_debt_us;
    if (p->budget > cap)
        p->budget = cap;
    if (p->budget < floor)
        p->budget = floor;
    return 0;
}

int tf_pacer_enqueue(tf_pacer_t *p, int64_t now_us, tf_pacer_kind_t kind, const uint8_t *pkt,
                     size_t len)
{
    if ((int)kind < 0 || kind >= TF_PACER_KINDS || !pkt)
        return -EINVAL;
    if (len == 0 || len > p->cfg.max_packet_bytes)
        return -EMSGSIZE;
    free_released(p);
    refill(p, now_us);
    if (p->free_head < 0) {
        int32_t old = pop(p, TF_PACER_VIDEO);
        if (old < 0) {
            p->st.refused++;
            return -ENOBUFS;
        }
        p->st.dropped_video++;
        p->slots[old].next = p->free_head;
        p->free_head = old;
    }
    int32_t i = p->free_head;
    pslot_t *s = &p->slots[i];
    p->free_head = s->next;
    s->queued_at = now_us;
    s->len = (uint32_t)len;
    s->kind = (uint8_t)kind;
    s->next = -1;
    memcpy(p->arena + (size_t)i * p->cfg.max_packet_bytes, pkt, len);
    if (p->tail[kind] >= 0)
        p->slots[p->tail[kind]].next = i;
    else
        p->head[kind] = i;
    p->tail[kind] = i;
    p->st.queued_packets++;
    p->st.queued_bytes += len;
    return 0;
}

int tf_pacer_poll(tf_pacer_t *p, int64_t now_us, tf_pacer_packet_t *out)
{
    free_released(p);
    refill(p, now_us);
    int kind = -1;
    if (p->head[TF_PACER_AUDIO] >= 0 && (!p->cfg.pace_audio || p->budget >= 0))
        kind = TF_PACER_AUDIO;
    else if (p->budget >= 0 && p->head[TF_PACER_RETRANSMISSION] >= 0)
        kind = TF_PACER_RETRANSMISSION;
    else if (p->budget >= 0 && p->head[TF_PACER_VIDEO] >= 0)
        kind = TF_PACER_VIDEO;
    if (kind < 0)
        return -EAGAIN;
    int32_t i = pop(p, kind);
    pslot_t *s = &p->slots[i];
    charge(p, s->len);
    p->released = i;
    out->data = p->arena + (size_t)i * p->cfg.max_packet_bytes;
    out->len = s->len;
    out->kind = (tf_pacer_kind_t)kind;
    out->queued_us = now_us > s->queued_at ? now_us - s->queued_at : 0;
    if (out->queued_us > p->st.max_queued_us)
        p->st.max_queued_us = out->queued_us;
    p->st.sent_packets[kind]++;
    p->st.sent_bytes[kind] += s->len;
    return 0;
}

int64_t tf_pacer_poll_timeout(const tf_pacer_t *p)
{
    if (p->st.queued_packets == 0)
        return INT64_MAX;
    if (p->budget >= 0 || (p->head[TF_PACER_AUDIO] >= 0 && !p->cfg.pace_audio))
        return p->last_us;
    int64_t rate = (int64_t)p->cfg.rate_bps;
    return p->last_us + (-p->budget + rate - 1) / rate;
}

void tf_pacer_get_stats(const tf_pacer_t *p, tf_pacer_stats_t *out)
{
    *out = p->st;
}
