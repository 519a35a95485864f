/* pacer.h — a leaky-bucket pacer for one connection's outgoing packets: a bounded queue drained
 * at a target rate, audio first, then retransmissions, then video. Sans-IO: no sockets, no
 * clock, no bandwidth estimation (the caller sets the rate), no malloc after create. */
#ifndef TF_RTC_PACER_H
#define TF_RTC_PACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tf_pacer_kind { /* in priority order */
                             TF_PACER_AUDIO = 0,
                             TF_PACER_RETRANSMISSION,
                             TF_PACER_VIDEO,
                             TF_PACER_KINDS
} tf_pacer_kind_t;

typedef struct tf_pacer_config {
    uint64_t rate_bps;       /* target, > 0 */
    size_t max_packets;      /* queue bound (all kinds) */
    size_t max_packet_bytes; /* one queue slot */
    int64_t burst_us;        /* budget an idle pacer may save up: rate × burst_us */
    int64_t max_debt_us;     /* how far unpaced audio may overdraw the budget */
    bool pace_audio;         /* false: audio leaves at once (its bytes still count) */
} tf_pacer_config_t;

/* Defaults: 512 packets of 1500 bytes, 5 ms of burst, 500 ms of debt, audio not paced. */
void tf_pacer_config_default(tf_pacer_config_t *cfg, uint64_t rate_bps);

typedef struct tf_pacer tf_pacer_t;

int tf_pacer_create(tf_pacer_t **out, const tf_pacer_config_t *cfg); /* 0, -EINVAL, -ENOMEM */
void tf_pacer_destroy(tf_pacer_t **p);

/* Takes effect for the time after the last call; > 0, else -EINVAL. */
int tf_pacer_set_rate(tf_pacer_t *p, int64_t now_us, uint64_t rate_bps);

/* Copies a packet into the queue. When the queue is full the oldest video packet is dropped
 * (and counted) to make room; with no video to drop the new packet is refused: -ENOBUFS.
 * -EMSGSIZE for a packet above max_packet_bytes, -EINVAL for a bad kind. */
int tf_pacer_enqueue(tf_pacer_t *p, int64_t now_us, tf_pacer_kind_t kind, const uint8_t *pkt,
                     size_t len);

typedef struct tf_pacer_packet {
    const uint8_t *data; /* inside the pacer: valid until the next call on it */
    size_t len;
    tf_pacer_kind_t kind;
    int64_t queued_us; /* time spent in the queue */
} tf_pacer_packet_t;

/* The next packet the budget allows at now_us: 0 with *out filled, or -EAGAIN. Call until
 * -EAGAIN, then wait for tf_pacer_poll_timeout(). */
int tf_pacer_poll(tf_pacer_t *p, int64_t now_us, tf_pacer_packet_t *out);

/* When poll will next release a packet, or INT64_MAX with an empty queue. */
int64_t tf_pacer_poll_timeout(const tf_pacer_t *p);

typedef struct tf_pacer_stats {
    uint64_t sent_packets[TF_PACER_KINDS], sent_bytes[TF_PACER_KINDS];
    uint64_t dropped_video, refused;
    size_t queued_packets, queued_bytes;
    int64_t max_queued_us; /* longest time a packet waited */
} tf_pacer_stats_t;
void tf_pacer_get_stats(const tf_pacer_t *p, tf_pacer_stats_t *out);

#endif
