/* impair.c — one direction of an impaired link: slot pool, loss models, a limiter queue served
 * by a constant rate or a Mahimahi trace, and a delay heap. No sockets, no clock, no file I/O. */
#include "bench/impair.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inside, time is in ns so that per-packet transmission times at odd rates do not drift. */
#define NS_PER_US INT64_C(1000)
#define NS_PER_MS INT64_C(1000000)
#define MAX_TIME_US (INT64_MAX / NS_PER_US / 4)
#define MAX_RATE_BPS UINT64_C(100000000000) /* 100 Gbit/s keeps len × 8e9 / rate in range */
#define NO_SLOT UINT32_MAX
#define TWO_PI 6.283185307179586

struct tf_impair_trace {
    uint32_t *ms;
    size_t n;
};

typedef struct islot {
    uint64_t seq;
    int64_t sent_ns, due_ns;
    uint32_t len;
} islot_t;

typedef enum limiter { LIM_NONE, LIM_RATE, LIM_TRACE } limiter_t;

struct tf_impair {
    tf_impair_config_t cfg; /* cfg.trace is not kept */
    uint64_t rng;
    bool ge_bad;
    bool have_spare;
    double spare_normal;

    uint8_t *arena; /* max_packets × max_packet_bytes */
    islot_t *slot;
    uint32_t *free_stack;
    size_t free_top;
    uint32_t released; /* handed out by the last poll, freed at the next call */

    uint32_t *fifo;                           /* limiter queue, a ring of slot indices */
    size_t fifo_head, fifo_count, fifo_bytes; /* fifo_bytes counts overhead_bytes too */

    uint32_t *heap; /* delay stage: min-heap on (due_ns, seq) */
    size_t heap_count;
    int64_t last_fifo_due_ns;

    int64_t now_ns;
    uint64_t next_seq;

    limiter_t lim;
    uint64_t rate_bps;
    int64_t head_done_ns; /* LIM_RATE: end of the head's transmission */
    uint32_t *trace_ms;   /* LIM_TRACE: our copy */
    size_t trace_n, trace_cap, trace_idx;
    int64_t trace_base_ns; /* start of the current repetition */
    size_t head_left;      /* LIM_TRACE: bytes of the head not yet delivered */
    size_t queue_limit;    /* effective drop-tail limit in bytes, 0 = none */

    tf_impair_stats_t st;
};

/* ---- randomness ------------------------------------------------------------------------- */

uint64_t tf_impair_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

double tf_impair_rand_unit(uint64_t *state)
{
    return (double)(tf_impair_rand(state) >> 11) * 0x1.0p-53;
}

/* Box–Muller, keeping the second value for the next call. */
static double rand_normal(tf_impair_t *x)
{
    if (x->have_spare) {
        x->have_spare = false;
        return x->spare_normal;
    }
    double u1 = 1.0 - tf_impair_rand_unit(&x->rng); /* (0, 1]: log() stays finite */
    double u2 = tf_impair_rand_unit(&x->rng);
    double m = sqrt(-2.0 * log(u1));
    x->spare_normal = m * sin(TWO_PI * u2);
    x->have_spare = true;
    return m * cos(TWO_PI * u2);
}

static bool chance(tf_impair_t *x, double p)
{
    if (p <= 0.0)
        return false;
    /* Draw even at p = 1 so that the stream does not depend on the value. */
    return tf_impair_rand_unit(&x->rng) < p;
}

/* ---- traces ----------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, size_t line)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, line);
}

int tf_impair_trace_parse(tf_impair_trace_t **out, const char *text, size_t len, char *err,
                          size_t errlen)
{
    if (!out || (!text && len))
        return -EINVAL;
    *out = NULL;
    tf_impair_trace_t *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    size_t cap = 0, line = 0, i = 0;
    int rc = -EINVAL;
    while (i < len) {
        line++;
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = i, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        i = end + 1;
        if (a == b)
            continue;
        uint64_t v = 0;
        for (size_t k = a; k < b; k++) {
            if (text[k] < '0' || text[k] > '9' || v > UINT32_MAX / 10) {
                set_err(err, errlen, "line %zu: not a time in ms", line);
                goto err;
            }
            v = v * 10 + (uint64_t)(text[k] - '0');
        }
        if (v > UINT32_MAX / 2) {
            set_err(err, errlen, "line %zu: time out of range", line);
            goto err;
        }
        if (t->n && v < t->ms[t->n - 1]) {
            set_err(err, errlen, "line %zu: time goes backwards", line);
            goto err;
        }
        if (t->n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            uint32_t *m = realloc(t->ms, ncap * sizeof(*m));
            if (!m) {
                rc = -ENOMEM;
                goto err;
            }
            t->ms = m;
            cap = ncap;
        }
        t->ms[t->n++] = (uint32_t)v;
    }
    if (t->n == 0) {
        set_err(err, errlen, "no delivery opportunities (%zu lines)", line);
        goto err;
    }
    if (t->ms[t->n - 1] == 0) {
        set_err(err, errlen, "the trace lasts 0 ms (%zu lines)", line);
        goto err;
    }
    *out = t;
    return 0;
err:
    free(t->ms);
    free(t);
    return rc;
}

void tf_impair_trace_destroy(tf_impair_trace_t **t)
{
    if (!t || !*t)
        return;
    free((*t)->ms);
    free(*t);
    *t = NULL;
}

size_t tf_impair_trace_opportunities(const tf_impair_trace_t *t)
{
    return t ? t->n : 0;
}

uint32_t tf_impair_trace_period_ms(const tf_impair_trace_t *t)
{
    return t && t->n ? t->ms[t->n - 1] : 0;
}

static uint64_t mean_bps(size_t n, uint32_t period_ms)
{
    return period_ms ? (uint64_t)n * TF_IMPAIR_OPPORTUNITY_BYTES * 8 * 1000 / period_ms : 0;
}

uint64_t tf_impair_trace_mean_bps(const tf_impair_trace_t *t)
{
    return t ? mean_bps(t->n, tf_impair_trace_period_ms(t)) : 0;
}

uint32_t tf_impair_trace_time_ms(const tf_impair_trace_t *t, size_t i)
{
    return t && i < t->n ? t->ms[i] : 0;
}

/* ---- create / destroy ------------------------------------------------------------------- */

void tf_impair_config_default(tf_impair_config_t *cfg)
{
    *cfg = (tf_impair_config_t){
        .seed = 1,
        .max_packets = 1024,
        .max_packet_bytes = 1500,
        .reorder_us = 10000,
        .ge_loss_bad = 1.0,
    };
}

static bool prob_ok(double p)
{
    return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

static bool config_ok(const tf_impair_config_t *c)
{
    const int64_t hour_us = INT64_C(3600000000);
    return c->max_packets >= 1 && c->max_packets <= (size_t)1 << 20 && c->max_packet_bytes >= 1 &&
           c->max_packet_bytes <= 65535 && c->delay_us >= 0 && c->delay_us <= hour_us &&
           c->jitter_us >= 0 && c->jitter_us <= hour_us &&
           (c->jitter_dist == TF_IMPAIR_JITTER_NORMAL ||
            c->jitter_dist == TF_IMPAIR_JITTER_UNIFORM) &&
           prob_ok(c->loss) && prob_ok(c->reorder) &&
           (c->reorder == 0.0 || (c->reorder_us > 0 && c->reorder_us <= hour_us)) &&
           (!c->ge || (prob_ok(c->ge_p) && prob_ok(c->ge_r) && prob_ok(c->ge_loss_bad) &&
                       prob_ok(c->ge_loss_good))) &&
           c->rate_bps <= MAX_RATE_BPS && c->queue_us >= 0 && c->queue_us <= hour_us &&
           c->overhead_bytes <= 1024;
}

static void update_queue_limit(tf_impair_t *x)
{
    size_t lim = x->cfg.queue_bytes;
    uint64_t rate = x->lim == LIM_RATE    ? x->rate_bps
                    : x->lim == LIM_TRACE ? mean_bps(x->trace_n, x->trace_ms[x->trace_n - 1])
                                          : 0;
    if (x->cfg.queue_us > 0 && rate > 0) {
        /* In double: an hour of queue at 100 Gbit/s does not fit 64-bit bit-microseconds. */
        double b = (double)x->cfg.queue_us * (double)rate / 8e6;
        size_t bytes = b < 1.0 ? 1 : b >= (double)SIZE_MAX ? SIZE_MAX : (size_t)b;
        if (lim == 0 || bytes < lim)
            lim = bytes;
    }
    x->queue_limit = lim;
}

static int install_trace(tf_impair_t *x, const tf_impair_trace_t *t)
{
    if (!t || t->n == 0 || t->ms[t->n - 1] == 0)
        return -EINVAL;
    if (t->n > x->trace_cap) {
        /* Not on the packet path: a trace changes by hand or at start-up. */
        uint32_t *m = realloc(x->trace_ms, t->n * sizeof(*m));
        if (!m)
            return -ENOMEM;
        x->trace_ms = m;
        x->trace_cap = t->n;
    }
    memcpy(x->trace_ms, t->ms, t->n * sizeof(*t->ms));
    x->trace_n = t->n;
    return 0;
}

int tf_impair_create(tf_impair_t **out, const tf_impair_config_t *cfg)
{
    if (!out || !cfg || !config_ok(cfg))
        return -EINVAL;
    *out = NULL;
    tf_impair_t *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    int rc = -ENOMEM;
    size_t n = cfg->max_packets;
    x->cfg = *cfg;
    x->cfg.trace = NULL;
    x->rng = cfg->seed;
    x->arena = malloc(n * cfg->max_packet_bytes);
    x->slot = calloc(n, sizeof(*x->slot));
    x->free_stack = malloc(n * sizeof(*x->free_stack));
    x->fifo = malloc(n * sizeof(*x->fifo));
    x->heap = malloc(n * sizeof(*x->heap));
    if (!x->arena || !x->slot || !x->free_stack || !x->fifo || !x->heap)
        goto err;
    for (size_t i = 0; i < n; i++)
        x->free_stack[i] = (uint32_t)(n - 1 - i); /* slot 0 on top */
    x->free_top = n;
    x->released = NO_SLOT;
    x->now_ns = INT64_MIN;
    x->last_fifo_due_ns = INT64_MIN;
    if (cfg->trace) {
        if ((rc = install_trace(x, cfg->trace)) < 0)
            goto err;
        x->lim = LIM_TRACE;
        x->trace_base_ns = INT64_MIN; /* anchored at the first call */
    } else if (cfg->rate_bps) {
        x->lim = LIM_RATE;
        x->rate_bps = cfg->rate_bps;
    }
    update_queue_limit(x);
    *out = x;
    return 0;
err:
    tf_impair_destroy(&x);
    return rc;
}

void tf_impair_destroy(tf_impair_t **px)
{
    if (!px || !*px)
        return;
    tf_impair_t *x = *px;
    free(x->arena);
    free(x->slot);
    free(x->free_stack);
    free(x->fifo);
    free(x->heap);
    free(x->trace_ms);
    free(x);
    *px = NULL;
}

/* ---- slot pool and delay heap ----------------------------------------------------------- */

static uint8_t *slot_data(tf_impair_t *x, uint32_t i)
{
    return x->arena + (size_t)i * x->cfg.max_packet_bytes;
}

static void release_pending(tf_impair_t *x)
{
    if (x->released != NO_SLOT) {
        x->free_stack[x->free_top++] = x->released;
        x->released = NO_SLOT;
    }
}

static bool heap_less(const tf_impair_t *x, uint32_t a, uint32_t b)
{
    const islot_t *sa = &x->slot[a], *sb = &x->slot[b];
    return sa->due_ns < sb->due_ns || (sa->due_ns == sb->due_ns && sa->seq < sb->seq);
}

static void heap_push(tf_impair_t *x, uint32_t s)
{
    size_t i = x->heap_count++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(x, s, x->heap[parent]))
            break;
        x->heap[i] = x->heap[parent];
        i = parent;
    }
    x->heap[i] = s;
}

static uint32_t heap_pop(tf_impair_t *x)
{
    uint32_t top = x->heap[0], last = x->heap[--x->heap_count];
    size_t i = 0, n = x->heap_count;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(x, x->heap[c + 1], x->heap[c]))
            c++;
        if (!heap_less(x, x->heap[c], last))
            break;
        x->heap[i] = x->heap[c];
        i = c;
    }
    if (n)
        x->heap[i] = last;
    return top;
}

/* The packet leaves the limiter (or skips it) at t_ns and starts its delay. */
static void delay_stage(tf_impair_t *x, uint32_t s, int64_t t_ns)
{
    int64_t d = x->cfg.delay_us * NS_PER_US;
    if (x->cfg.jitter_us > 0) {
        double j = (double)(x->cfg.jitter_us * NS_PER_US);
        double r = x->cfg.jitter_dist == TF_IMPAIR_JITTER_UNIFORM
                       ? (2.0 * tf_impair_rand_unit(&x->rng) - 1.0) * j
                       : rand_normal(x) * j;
        double total = (double)d + r;
        double cap = (double)INT64_C(3600000000) * (double)NS_PER_US * 4.0;
        d = total <= 0.0 ? 0 : total >= cap ? (int64_t)cap : (int64_t)llround(total);
    }
    int64_t due = t_ns + d;
    if (x->cfg.reorder > 0.0 && chance(x, x->cfg.reorder)) {
        /* Held back and outside the FIFO clamp: what arrives meanwhile overtakes it. */
        due += x->cfg.reorder_us * NS_PER_US;
        x->st.reordered++;
    } else {
        /* FIFO: a packet never overtakes an earlier one, as on one path through one queue. */
        if (due < x->last_fifo_due_ns)
            due = x->last_fifo_due_ns;
        x->last_fifo_due_ns = due;
    }
    x->slot[s].due_ns = due;
    heap_push(x, s);
}

/* ---- limiter ---------------------------------------------------------------------------- */

static uint32_t fifo_at(const tf_impair_t *x, size_t k)
{
    return x->fifo[(x->fifo_head + k) % x->cfg.max_packets];
}

static uint32_t fifo_pop(tf_impair_t *x)
{
    uint32_t s = x->fifo[x->fifo_head];
    x->fifo_head = (x->fifo_head + 1) % x->cfg.max_packets;
    x->fifo_count--;
    x->fifo_bytes -= x->slot[s].len + x->cfg.overhead_bytes;
    return s;
}

static int64_t tx_ns(size_t len, uint64_t rate_bps)
{
    uint64_t bits_ns = (uint64_t)len * 8 * UINT64_C(1000000000);
    return (int64_t)((bits_ns + rate_bps - 1) / rate_bps);
}

static int64_t trace_next_ns(const tf_impair_t *x)
{
    return x->trace_base_ns + (int64_t)x->trace_ms[x->trace_idx] * NS_PER_MS;
}

static void trace_step(tf_impair_t *x)
{
    if (++x->trace_idx == x->trace_n) {
        x->trace_idx = 0;
        x->trace_base_ns += (int64_t)x->trace_ms[x->trace_n - 1] * NS_PER_MS;
    }
}

/* The head (if any) starts its service at t_ns. */
static void head_start(tf_impair_t *x, int64_t t_ns)
{
    if (x->fifo_count == 0)
        return;
    size_t len = x->slot[fifo_at(x, 0)].len + x->cfg.overhead_bytes;
    if (x->lim == LIM_RATE)
        x->head_done_ns = t_ns + tx_ns(len, x->rate_bps);
    else
        x->head_left = len;
}

/* Serves the limiter queue up to now_ns. Opportunities and transmissions that end at now_ns
 * count as before a packet offered at now_ns (mm-link does the same). */
static void limiter_advance(tf_impair_t *x, int64_t now_ns)
{
    if (x->lim == LIM_RATE) {
        while (x->fifo_count > 0 && x->head_done_ns <= now_ns) {
            int64_t done = x->head_done_ns;
            delay_stage(x, fifo_pop(x), done);
            head_start(x, done);
        }
        return;
    }
    if (x->lim != LIM_TRACE)
        return;
    int64_t period_ns = (int64_t)x->trace_ms[x->trace_n - 1] * NS_PER_MS;
    for (;;) {
        int64_t opp = trace_next_ns(x);
        if (opp > now_ns)
            break;
        if (x->fifo_count == 0) {
            /* An idle link wastes its opportunities; skip whole periods at once. */
            if (now_ns - opp >= period_ns)
                x->trace_base_ns += (now_ns - opp) / period_ns * period_ns;
            trace_step(x);
            continue;
        }
        /* mm-link: one opportunity delivers up to 1500 bytes, possibly finishing several small
         * packets or part of a large one; what the queue cannot use is lost. */
        size_t credit = TF_IMPAIR_OPPORTUNITY_BYTES;
        while (x->fifo_count > 0) {
            size_t take = x->head_left < credit ? x->head_left : credit;
            credit -= take;
            x->head_left -= take;
            if (x->head_left > 0)
                break;
            delay_stage(x, fifo_pop(x), opp);
            head_start(x, opp);
        }
        trace_step(x);
    }
}

static void advance(tf_impair_t *x, int64_t now_us)
{
    if (now_us > MAX_TIME_US)
        now_us = MAX_TIME_US;
    if (now_us < -MAX_TIME_US)
        now_us = -MAX_TIME_US;
    int64_t now_ns = now_us * NS_PER_US;
    if (now_ns < x->now_ns)
        now_ns = x->now_ns;
    if (x->lim == LIM_TRACE && x->trace_base_ns == INT64_MIN)
        x->trace_base_ns = now_ns;
    x->now_ns = now_ns;
    limiter_advance(x, now_ns);
}

int tf_impair_set_rate(tf_impair_t *x, int64_t now_us, uint64_t rate_bps)
{
    if (!x || rate_bps > MAX_RATE_BPS)
        return -EINVAL;
    release_pending(x);
    advance(x, now_us);
    int64_t now = x->now_ns;
    if (rate_bps == 0) {
        while (x->fifo_count > 0)
            delay_stage(x, fifo_pop(x), now);
        x->lim = LIM_NONE;
        x->rate_bps = 0;
    } else if (x->lim == LIM_RATE) {
        if (x->fifo_count > 0) {
            /* The head keeps the bytes already sent: its remaining time scales. */
            double left = (double)(x->head_done_ns - now) * (double)x->rate_bps / (double)rate_bps;
            x->head_done_ns = now + (int64_t)ceil(left);
        }
        x->rate_bps = rate_bps;
    } else {
        x->lim = LIM_RATE;
        x->rate_bps = rate_bps;
        head_start(x, now);
    }
    update_queue_limit(x);
    return 0;
}

int tf_impair_set_trace(tf_impair_t *x, int64_t now_us, const tf_impair_trace_t *trace)
{
    if (!x || !trace)
        return -EINVAL;
    release_pending(x);
    advance(x, now_us);
    int rc = install_trace(x, trace);
    if (rc < 0)
        return rc;
    x->lim = LIM_TRACE;
    x->rate_bps = 0;
    x->trace_idx = 0;
    x->trace_base_ns = x->now_ns;
    head_start(x, x->now_ns);
    update_queue_limit(x);
    return 0;
}

/* ---- packets in and out ----------------------------------------------------------------- */

static bool lose(tf_impair_t *x)
{
    bool lost = false;
    if (x->cfg.ge) {
        /* The state decides this packet's loss, then moves on (once per packet). */
        lost = chance(x, x->ge_bad ? x->cfg.ge_loss_bad : x->cfg.ge_loss_good);
        if (x->ge_bad ? chance(x, x->cfg.ge_r) : chance(x, x->cfg.ge_p))
            x->ge_bad = !x->ge_bad;
        if (lost)
            x->st.lost_burst++;
    }
    if (x->cfg.loss > 0.0 && chance(x, x->cfg.loss) && !lost) {
        lost = true;
        x->st.lost_random++;
    }
    return lost;
}

int tf_impair_handle_input(tf_impair_t *x, int64_t now_us, const uint8_t *pkt, size_t len)
{
    if (!x || (!pkt && len))
        return -EINVAL;
    release_pending(x);
    advance(x, now_us);
    x->st.in_packets++;
    x->st.in_bytes += len;
    if (len > x->cfg.max_packet_bytes) {
        x->st.dropped_oversize++;
        return -EMSGSIZE;
    }
    if (lose(x))
        return 0;
    if (x->lim != LIM_NONE && x->queue_limit && x->fifo_count > 0 &&
        x->fifo_bytes + len + x->cfg.overhead_bytes > x->queue_limit) {
        x->st.dropped_queue++; /* drop-tail; an empty queue always takes one packet */
        return 0;
    }
    if (x->free_top == 0) {
        x->st.dropped_overflow++;
        return -ENOBUFS;
    }
    uint32_t s = x->free_stack[--x->free_top];
    if (len)
        memcpy(slot_data(x, s), pkt, len);
    x->slot[s] = (islot_t){.seq = x->next_seq++, .sent_ns = x->now_ns, .len = (uint32_t)len};
    if (x->lim == LIM_NONE) {
        delay_stage(x, s, x->now_ns);
        return 0;
    }
    x->fifo[(x->fifo_head + x->fifo_count) % x->cfg.max_packets] = s;
    x->fifo_count++;
    x->fifo_bytes += len + x->cfg.overhead_bytes;
    if (x->fifo_count == 1)
        head_start(x, x->now_ns);
    return 0;
}

static int64_t ns_to_us_ceil(int64_t ns)
{
    return ns >= 0 ? (ns + NS_PER_US - 1) / NS_PER_US : ns / NS_PER_US;
}

int tf_impair_poll_transmit(tf_impair_t *x, int64_t now_us, tf_impair_packet_t *out)
{
    if (!x || !out)
        return -EINVAL;
    release_pending(x);
    advance(x, now_us);
    if (x->heap_count == 0 || x->slot[x->heap[0]].due_ns > x->now_ns)
        return -EAGAIN;
    uint32_t s = heap_pop(x);
    const islot_t *sl = &x->slot[s];
    *out = (tf_impair_packet_t){
        .data = slot_data(x, s),
        .len = sl->len,
        .seq = sl->seq,
        .sent_us = ns_to_us_ceil(sl->sent_ns),
        .due_us = ns_to_us_ceil(sl->due_ns),
    };
    x->released = s;
    x->st.out_packets++;
    x->st.out_bytes += sl->len;
    return 0;
}

int64_t tf_impair_poll_timeout(const tf_impair_t *x)
{
    if (!x)
        return INT64_MAX;
    int64_t t = INT64_MAX;
    if (x->heap_count > 0)
        t = x->slot[x->heap[0]].due_ns;
    if (x->fifo_count > 0) {
        int64_t l = x->lim == LIM_RATE ? x->head_done_ns : trace_next_ns(x);
        if (l < t)
            t = l;
    }
    return t == INT64_MAX ? t : ns_to_us_ceil(t);
}

void tf_impair_get_stats(const tf_impair_t *x, tf_impair_stats_t *out)
{
    if (!x || !out)
        return;
    *out = x->st;
    out->queued_packets = x->fifo_count;
    out->queued_bytes = x->fifo_bytes;
    out->in_flight_packets = x->heap_count;
    out->trace = x->lim == LIM_TRACE;
    out->rate_bps = x->lim == LIM_RATE    ? x->rate_bps
                    : x->lim == LIM_TRACE ? mean_bps(x->trace_n, x->trace_ms[x->trace_n - 1])
                                          : 0;
}
