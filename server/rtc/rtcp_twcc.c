/* rtcp_twcc.c — transport-wide congestion control feedback (RTPFB FMT 15): parse, expand to a
 * per-packet status list, build from one. Wire format only: the estimator lives elsewhere. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtcp_internal.h"

/*
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|  FMT=15 |    PT=205     |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     SSRC of packet sender                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      SSRC of media source                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      base sequence number     |      packet status count      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 reference time                | fb pkt. count |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          packet chunk         |         packet chunk          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                                                               .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         packet chunk          |  recv delta   |  recv delta   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                                                               .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           recv delta          |  recv delta   | zero padding  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Run length chunk (§3.1.3)          Status vector chunk (§3.1.4)
 *  0                   1              0                   1
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |T| S |       Run Length        |  |T|S|       symbol list         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * T=0: S repeated Run Length times. T=1, S=0: 14 one-bit symbols (0 not received, 1 received
 * with a small delta); T=1, S=1: 7 two-bit symbols. Symbols (§3.1.1): 00 not received, 01
 * received with a small delta (1 byte, unsigned), 10 received with a large or negative delta
 * (2 bytes, signed), 11 reserved — rejected, as libwebrtc does. Deltas are in 250 µs units;
 * the reference time is in 64 ms units. A symbol's value is the size of its delta in bytes,
 * which the code below relies on. libwebrtc pads with the P bit, so does the builder here; a
 * parser accepts both that and zero bytes after the deltas. An empty feedback (status count 0)
 * is rejected, as libwebrtc does.
 */
#define TWCC_FIXED 16 /* common feedback part + base seq, count, ref time, fb count */
#define DELTA_TICK_US 250
#define RUN_MAX 0x1fff
#define FMT_TWCC 15

static size_t chunk_capacity(uint16_t c)
{
    if (!(c & 0x8000))
        return c & RUN_MAX;
    return c & 0x4000 ? 7 : 14;
}

static uint8_t chunk_symbol(uint16_t c, size_t k)
{
    if (!(c & 0x8000))
        return (uint8_t)(c >> 13 & 3);
    if (c & 0x4000)
        return (uint8_t)(c >> (12 - 2 * k) & 3);
    return (uint8_t)(c >> (13 - k) & 1);
}

/* Validates the chunks and deltas of *t, and expands them into `out` unless NULL. */
static int walk(const tf_rtcp_twcc_t *t, tf_rtcp_twcc_status_t *out)
{
    const uint8_t *b = t->body;
    size_t len = t->body_len, pos = 0, deltas = 0, left = t->status_count;

    if (left == 0 || (len && !b))
        return -EPROTO;
    while (left) {
        if (len - pos < 2)
            return -EPROTO;
        uint16_t c = tf__rd16(b + pos);
        pos += 2;
        size_t n = chunk_capacity(c);
        n = n < left ? n : left;
        for (size_t k = 0; k < n; k++) {
            uint8_t s = chunk_symbol(c, k);
            if (s == 3)
                return -EPROTO;
            if (!(c & 0x8000)) { /* a run: one symbol stands for all */
                deltas += s * n;
                break;
            }
            deltas += s;
        }
        left -= n;
    }
    if (deltas > len - pos || !out)
        return deltas > len - pos ? -EPROTO : 0;

    size_t cpos = 0, dpos = pos, i = 0;
    uint16_t seq = t->base_seq;
    while (i < t->status_count) {
        uint16_t c = tf__rd16(b + cpos);
        cpos += 2;
        size_t n = chunk_capacity(c);
        n = n < t->status_count - i ? n : t->status_count - i;
        for (size_t k = 0; k < n; k++, i++, seq++) {
            uint8_t s = chunk_symbol(c, k);
            int32_t ticks = 0;
            if (s == 1)
                ticks = b[dpos];
            else if (s == 2)
                ticks = (int32_t)tf__rd16(b + dpos) - (b[dpos] & 0x80 ? 0x10000 : 0);
            dpos += s;
            out[i] = (tf_rtcp_twcc_status_t){
                .seq = seq, .received = s != 0, .delta_us = ticks * DELTA_TICK_US};
        }
    }
    return 0;
}

int tf__rtcp_twcc_parse(tf_rtcp_twcc_t *t, const uint8_t *b, size_t len)
{
    if (len < TWCC_FIXED + 2)
        return -EPROTO;
    t->sender_ssrc = tf__rd32(b);
    t->media_ssrc = tf__rd32(b + 4);
    t->base_seq = tf__rd16(b + 8);
    t->status_count = tf__rd16(b + 10);
    t->ref_time = tf__rd24(b + 12);
    t->fb_count = b[15];
    t->body = b + TWCC_FIXED;
    t->body_len = len - TWCC_FIXED;
    return walk(t, NULL);
}

static void write_fixed(uint8_t *d, const tf_rtcp_twcc_t *t, uint16_t base, uint16_t count)
{
    tf__wr32(d, t->sender_ssrc);
    tf__wr32(d + 4, t->media_ssrc);
    tf__wr16(d + 8, base);
    tf__wr16(d + 10, count);
    tf__wr24(d + 12, t->ref_time);
    d[15] = t->fb_count;
}

int tf__rtcp_twcc_body(const tf_rtcp_twcc_t *t, uint8_t *d)
{
    if (t->ref_time > 0xffffff || t->body_len > TF__RTCP_MAX_LEN - 4 - TWCC_FIXED ||
        walk(t, NULL) < 0)
        return -EINVAL;
    if (d) {
        write_fixed(d, t, t->base_seq, t->status_count);
        memcpy(d + TWCC_FIXED, t->body, t->body_len);
    }
    return (int)(TWCC_FIXED + t->body_len);
}

int tf_rtcp_twcc_expand(const tf_rtcp_twcc_t *t, tf_rtcp_twcc_status_t *out, size_t cap)
{
    if (cap < t->status_count)
        return -ENOBUFS;
    int err = walk(t, out);
    return err < 0 ? err : t->status_count;
}

/* The chunk encoder, after libwebrtc's LastChunk: symbols gather until the next one no longer
 * fits any chunk kind; then the longest run, a full one-bit vector, or the first 7 symbols as a
 * two-bit vector go out. Chunks go to `out` unless NULL; `chunks` counts them either way. */
typedef struct chunk_enc {
    uint8_t sym[14];
    size_t size;
    bool all_same, has_large;
    uint8_t *out;
    size_t chunks;
} chunk_enc_t;

static bool enc_can_add(const chunk_enc_t *e, uint8_t s)
{
    if (e->size < 7)
        return true;
    if (e->size < 14 && !e->has_large && s != 2)
        return true;
    return e->size < RUN_MAX && e->all_same && e->sym[0] == s;
}

static void enc_add(chunk_enc_t *e, uint8_t s)
{
    if (e->size < 14)
        e->sym[e->size] = s;
    e->all_same = e->size == 0 || (e->all_same && e->sym[0] == s);
    e->has_large = e->has_large || s == 2;
    e->size++;
}

static void enc_put(chunk_enc_t *e, uint16_t c)
{
    if (e->out)
        tf__wr16(e->out + 2 * e->chunks, c);
    e->chunks++;
}

static uint16_t vector_chunk(const uint8_t *sym, size_t n, bool two_bit)
{
    uint16_t c = two_bit ? 0xc000 : 0x8000;
    for (size_t k = 0; k < n; k++)
        c |= (uint16_t)(two_bit ? sym[k] << (12 - 2 * k) : sym[k] << (13 - k));
    return c;
}

static void enc_emit(chunk_enc_t *e, bool last)
{
    if (e->all_same) {
        enc_put(e, (uint16_t)(e->sym[0] << 13 | e->size));
        e->size = 0;
    } else if (e->size == 14 || (last && e->size > 7)) {
        enc_put(e, vector_chunk(e->sym, e->size, false)); /* no large delta among them */
        e->size = 0;
    } else {
        size_t n = e->size < 7 ? e->size : 7;
        enc_put(e, vector_chunk(e->sym, n, true));
        size_t rest = e->size - n;
        memmove(e->sym, e->sym + n, rest);
        e->size = 0;
        e->all_same = e->has_large = false;
        for (size_t k = 0; k < rest; k++)
            enc_add(e, e->sym[k]);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Encodes st[] into chunks (to `chunks` unless NULL) and deltas (to `deltas` unless NULL);
 * reports how many chunks and delta bytes that takes. */
static int encode(const tf_rtcp_twcc_status_t *st, size_t n, uint8_t *chunks, uint8_t *deltas,
                  size_t *n_chunks, size_t *delta_bytes)
{
    chunk_enc_t e = {.out = chunks};
    int64_t true_us = 0, sent_ticks = 0;
    size_t db = 0;

    if (n == 0 || n > 0xffff)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        uint8_t s = 0;
        if (st[i].seq != (uint16_t)(st[0].seq + i))
            return -EINVAL;
        if (st[i].received) {
            /* Round the running arrival time, not each delta, so errors do not add up. */
            true_us += st[i].delta_us;
            int64_t target = floor_div(true_us + DELTA_TICK_US / 2, DELTA_TICK_US);
            int64_t dt = target - sent_ticks;
            if (dt < INT16_MIN || dt > INT16_MAX)
                return -ERANGE;
            sent_ticks = target;
            s = dt >= 0 && dt <= 255 ? 1 : 2;
            if (deltas && s == 1)
                deltas[db] = (uint8_t)dt;
            else if (deltas)
                tf__wr16(deltas + db, (uint16_t)dt);
            db += s;
        }
        if (!enc_can_add(&e, s))
            enc_emit(&e, false);
        enc_add(&e, s);
    }
    while (e.size)
        enc_emit(&e, true);
    *n_chunks = e.chunks;
    *delta_bytes = db;
    return 0;
}

static size_t built_size(size_t n_chunks, size_t delta_bytes)
{
    return (4 + TWCC_FIXED + 2 * n_chunks + delta_bytes + 3) & ~(size_t)3;
}

size_t tf_rtcp_twcc_build_size(const tf_rtcp_twcc_status_t *st, size_t n)
{
    size_t nc, db;
    if (encode(st, n, NULL, NULL, &nc, &db) < 0)
        return 0;
    size_t size = built_size(nc, db);
    return size > TF__RTCP_MAX_LEN ? 0 : size;
}

int tf_rtcp_twcc_build_to(const tf_rtcp_twcc_t *hdr, const tf_rtcp_twcc_status_t *st, size_t n,
                          uint8_t *out, size_t cap)
{
    size_t nc, db;
    int err = encode(st, n, NULL, NULL, &nc, &db);
    if (err)
        return err;
    size_t size = built_size(nc, db), used = 4 + TWCC_FIXED + 2 * nc + db;
    if (hdr->ref_time > 0xffffff || size > TF__RTCP_MAX_LEN)
        return -EINVAL;
    if (size > cap)
        return -ENOBUFS;
    tf__rtcp_header(out, size != used, FMT_TWCC, TF__RTCP_RTPFB, size);
    write_fixed(out + 4, hdr, st[0].seq, (uint16_t)n);
    encode(st, n, out + 4 + TWCC_FIXED, out + 4 + TWCC_FIXED + 2 * nc, &nc, &db);
    if (size != used) {
        memset(out + used, 0, size - used - 1);
        out[size - 1] = (uint8_t)(size - used);
    }
    return (int)size;
}
