/* impair.h — the sans-IO core of tafel-relay: one direction of an impaired link (loss, a rate
 * limit with a drop-tail queue, delay, jitter, reordering). No sockets, no clock, no file I/O,
 * no malloc after create except when a trace is installed. */
#ifndef TF_BENCH_IMPAIR_H
#define TF_BENCH_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A packet goes through the stages in this order:
 *   loss     Gilbert–Elliott state (advanced on every packet), then independent random loss;
 *   limiter  drop-tail queue served at a constant rate or by a Mahimahi trace (none: bypassed);
 *   delay    fixed delay + jitter; FIFO unless a packet is picked for reordering.
 * All times are µs on the caller's clock and must not go backwards (a smaller time counts as the
 * latest one seen). Randomness is one splitmix64 stream seeded from the config. */

#define TF_IMPAIR_OPPORTUNITY_BYTES 1500 /* what one Mahimahi trace line delivers */

/* ---- Mahimahi traces ---------------------------------------------------------------------- */
/* Each line is a time in ms at which one 1500-byte delivery opportunity occurs; lines do not
 * decrease; the trace repeats with its last time as the period (as mm-link does). */
typedef struct tf_impair_trace tf_impair_trace_t;

/* Parses text (not NUL-terminated; blank lines and CR allowed). 0, -EINVAL (err says which
 * line), -ENOMEM. *out is the caller's, freed with tf_impair_trace_destroy(). */
int tf_impair_trace_parse(tf_impair_trace_t **out, const char *text, size_t len, char *err,
                          size_t errlen);
void tf_impair_trace_destroy(tf_impair_trace_t **t);
size_t tf_impair_trace_opportunities(const tf_impair_trace_t *t); /* lines in one period */
uint32_t tf_impair_trace_period_ms(const tf_impair_trace_t *t);
uint64_t tf_impair_trace_mean_bps(const tf_impair_trace_t *t);
uint32_t tf_impair_trace_time_ms(const tf_impair_trace_t *t, size_t i); /* line i, i < count */

/* ---- one direction of a link --------------------------------------------------------------- */
typedef enum tf_impair_jitter {
    TF_IMPAIR_JITTER_NORMAL = 0, /* jitter_us is the standard deviation */
    TF_IMPAIR_JITTER_UNIFORM,    /* jitter_us is the half-width: delay ± jitter_us */
} tf_impair_jitter_t;

typedef struct tf_impair_config {
    uint64_t seed;
    size_t max_packets;      /* slots for packets queued or in flight, 1 .. 2^20 */
    size_t max_packet_bytes; /* one slot, 1 .. 65535; longer datagrams are refused */
    int64_t delay_us;        /* fixed one-way delay, >= 0 */
    int64_t jitter_us;       /* >= 0; a sample never makes the delay negative */
    tf_impair_jitter_t jitter_dist;
    double loss;                    /* independent random loss probability, 0..1 */
    bool ge;                        /* Gilbert–Elliott bursty loss on top of `loss` */
    double ge_p, ge_r;              /* per packet: P(good -> bad), P(bad -> good) */
    double ge_loss_bad;             /* loss probability in the bad state (1 - h), 0..1 */
    double ge_loss_good;            /* loss probability in the good state (1 - k), 0..1 */
    double reorder;                 /* P(a packet is held back by reorder_us), 0..1 */
    int64_t reorder_us;             /* > 0 when reorder > 0; later packets overtake a held one */
    uint64_t rate_bps;              /* constant rate limit, 0 = none; trace overrides it */
    const tf_impair_trace_t *trace; /* copied; its time 0 is the time of the first call */
    size_t queue_bytes;             /* drop-tail limit of the limiter queue; 0 = none */
    int64_t queue_us;               /* the same in time at the current (mean) rate; 0 = none */
    size_t overhead_bytes; /* added to each packet's length by the limiter and the queue limit
                            * (28 = IPv4 + UDP headers, as a link and mm-link count), 0..1024 */
} tf_impair_config_t;

/* No impairment at all: 1024 slots of 1500 bytes, reorder_us 10 ms, seed 1. */
void tf_impair_config_default(tf_impair_config_t *cfg);

typedef struct tf_impair tf_impair_t;

int tf_impair_create(tf_impair_t **out, const tf_impair_config_t *cfg); /* 0, -EINVAL, -ENOMEM */
void tf_impair_destroy(tf_impair_t **x);

/* Offers a datagram sent at now_us; the link copies it. 0 when the link took it — it will be
 * delivered, or the loss model or the drop-tail queue dropped it (see the stats). -EMSGSIZE
 * above max_packet_bytes, -ENOBUFS with every slot in use (both counted), -EINVAL. */
int tf_impair_handle_input(tf_impair_t *x, int64_t now_us, const uint8_t *pkt, size_t len);

typedef struct tf_impair_packet {
    const uint8_t *data; /* inside the link: valid until the next call on it */
    size_t len;
    uint64_t seq;    /* input order among the packets the link took, from 0 */
    int64_t sent_us; /* when it was offered */
    int64_t due_us;  /* when it became deliverable (rounded up to the µs) */
} tf_impair_packet_t;

/* The next packet due at or before now_us: 0 with *out filled, or -EAGAIN. Call until -EAGAIN,
 * then again at tf_impair_poll_timeout(). Packets come out in due order (ties: input order). */
int tf_impair_poll_transmit(tf_impair_t *x, int64_t now_us, tf_impair_packet_t *out);

/* The next time something happens inside (a packet due, a trace opportunity or the end of a
 * transmission while the limiter queue is not empty), or INT64_MAX when the link is empty. */
int64_t tf_impair_poll_timeout(const tf_impair_t *x);

/* Changes the limiter from now_us on. A packet in service under a constant rate finishes its
 * remaining bytes at the new rate; one partly served by a trace (or switching between the two
 * kinds) starts its service again. Rate 0 removes the limit and releases the queue at once.
 * The trace is copied and its time 0 is now_us. 0, -EINVAL, -ENOMEM. */
int tf_impair_set_rate(tf_impair_t *x, int64_t now_us, uint64_t rate_bps);
int tf_impair_set_trace(tf_impair_t *x, int64_t now_us, const tf_impair_trace_t *trace);

typedef struct tf_impair_stats {
    uint64_t in_packets, in_bytes;    /* offered (oversize ones included) */
    uint64_t out_packets, out_bytes;  /* handed out by poll */
    uint64_t lost_random, lost_burst; /* loss model (a packet both would lose counts as burst) */
    uint64_t dropped_queue;           /* drop-tail limit */
    uint64_t dropped_overflow;        /* no free slot */
    uint64_t dropped_oversize;
    uint64_t reordered;                  /* held back by reorder_us */
    size_t queued_packets, queued_bytes; /* in the limiter queue now, overhead included */
    size_t in_flight_packets;            /* past the limiter, waiting for their delay */
    uint64_t rate_bps;                   /* constant rate, trace mean rate, or 0 (none) */
    bool trace;                          /* the limiter replays a trace */
} tf_impair_stats_t;
void tf_impair_get_stats(const tf_impair_t *x, tf_impair_stats_t *out);

/* splitmix64: the generator the link uses, for tools that need the same determinism. */
uint64_t tf_impair_rand(uint64_t *state);
double tf_impair_rand_unit(uint64_t *state); /* uniform in [0, 1) */

#endif
