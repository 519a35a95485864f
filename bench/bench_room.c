/* bench_room.c — CPU and downstream bytes of one MCU room (server/room.h) driven in-process by N
 * simulated browsers on a simulated clock: shared (tier, codec) encoders against one video encoder
 * per receiver, N = 5, 15, 30, interleaved rounds in one run. No sockets, no SRTP, no loss, no
 * RTCP from receivers (their bandwidth estimate stays at its start: the medium tier).
 *
 * Usage: bench_room [--quick] [--rounds R] [--seconds S] [--n N] [--mode M] [--uplink WxH@K]
 *        [--talkers K].
 * Every participant sends what a pupil's browser sends under Tafel's uplink budget: by default
 * H.264 constrained baseline 320x180 at 15 fps and about 150 kbit/s (x264, one slice, FU-A above
 * 1100 bytes of payload) and Opus 20 ms at 32 kbit/s with the RFC 6464 audio level. Each
 * participant's clip (a moving square on its own colour over a panning texture, a voice-like tone
 * of its own pitch) is encoded once before any timing and then replayed in a loop at real-time
 * pacing with continuous sequence numbers and timestamps; a PLI from the room makes the sender
 * restart its clip at the IDR, as a browser sends a key frame. Time advances from event to event
 * as fast as the CPU allows; CPU time is the process's (CLOCK_PROCESS_CPUTIME_ID) over the
 * measured window, so it includes the harness (stamping and parsing a few thousand RTP packets
 * per simulated second: under 1 % in a profile). The SFU column is computed, not measured: the
 * senders' measured uplink times N-1 per receiver. A receiver that got no video or no audio in
 * the window is an error: reported, and the exit status is 1. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/frame.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "server/room.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"

enum {
    MAX_N = 30, /* largest room measured */
    MAX_ROUNDS = 15,
    CLIP_S = 4, /* seconds of pre-encoded media per participant */
    FPS = 15,
    V_FRAMES = CLIP_S * FPS,
    A_FRAMES = CLIP_S * 50,
    A_SAMPLES = 960, /* 20 ms at 48 kHz */
    A_MAX = 400,     /* bytes per stored Opus packet */
    MAX_PAYLOAD = 1100,
    PT_OPUS = 111,
    PT_H264 = 102,
    EXT_AUDIO_LEVEL = 1,
    ID_BASE = 1000,
};

#define T0_US 5000000000ull /* the simulated clock starts at 5000 s of "uptime" */
#define SEED 0x7afe1b00c5ull

/* What each simulated browser sends: the picture size and the encoder's target. */
typedef struct uplink {
    int w, h, kbps;
} uplink_t;

static void die(const char *what, int e)
{
    fprintf(stderr, "bench_room: %s%s%s\n", what, e ? ": " : "", e ? strerror(-e) : "");
    exit(1);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double s[MAX_ROUNDS];
    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- clips: encoded once, replayed -------------------------------------------------------- */

typedef struct vpkt {
    uint32_t off;
    uint16_t len;
    uint8_t marker;
} vpkt_t;

typedef struct clip {
    uint8_t *vbytes; /* payloads of every video packet, back to back */
    size_t vlen, vcap;
    vpkt_t *vpk;
    int n_vpk, vpk_cap;
    int vfirst[V_FRAMES + 1]; /* packets of frame f: vfirst[f] .. vfirst[f + 1] - 1 */
    uint8_t apay[A_FRAMES][A_MAX];
    uint16_t alen[A_FRAMES];
    uint8_t alevel[A_FRAMES]; /* -dBov, RFC 6464 */
} clip_t;

static void clip_add_vpkt(clip_t *c, const uint8_t *p, size_t len, bool marker)
{
    if (c->vlen + len > c->vcap) {
        c->vcap = (c->vcap + len) * 2;
        c->vbytes = realloc(c->vbytes, c->vcap);
    }
    if (c->n_vpk == c->vpk_cap) {
        c->vpk_cap = c->vpk_cap ? c->vpk_cap * 2 : 256;
        c->vpk = realloc(c->vpk, sizeof(*c->vpk) * (size_t)c->vpk_cap);
    }
    if (!c->vbytes || !c->vpk)
        die("out of memory", 0);
    memcpy(c->vbytes + c->vlen, p, len);
    c->vpk[c->n_vpk++] = (vpkt_t){(uint32_t)c->vlen, (uint16_t)len, marker};
    c->vlen += len;
}

static uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca77u ^ c * 0xc2b2ae3du;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    return h ^ (h >> 12);
}

/* Participant `who`, frame k: its own colour, a texture panning one pixel a frame (a camera is
 * never still), a little sensor noise and a bright square on a Lissajous path. */
static void draw_pattern(tf_frame_t *f, int who, int k)
{
    int by = 70 + (who * 37) % 100, bu = 128 + (who * 53) % 90 - 45,
        bv = 128 + (who * 29) % 90 - 45;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * (size_t)f->stride[0];
        for (int x = 0; x < f->width; x++) {
            int t = (int)(hash3((uint32_t)who, (uint32_t)(x + k) >> 1, (uint32_t)y >> 1) & 47);
            int noise = (int)(hash3((uint32_t)k, (uint32_t)x, (uint32_t)y) & 7) - 4; /* sensor */
            row[x] = (uint8_t)(by + t - 24 + (x + y) / 16 + noise);
        }
    }
    for (int p = 1; p < 3; p++) {
        int base = p == 1 ? bu : bv;
        for (int y = 0; y < tf_frame_chroma_h(f); y++)
            memset(f->plane[p] + (size_t)y * (size_t)f->stride[p], base + y / 8 - 5,
                   (size_t)tf_frame_chroma_w(f));
    }
    double ph = 2 * M_PI * k / V_FRAMES;
    int side = (f->height / 4 < 40 ? f->height / 4 : 40) & ~1;
    int sx = (int)((f->width - side) * (0.5 + 0.5 * sin(ph * (1 + who % 3) + who)));
    int sy = (int)((f->height - side) * (0.5 + 0.5 * cos(ph * (1 + who % 2) + who)));
    sx &= ~1;
    sy &= ~1;
    for (int y = sy; y < sy + side; y++)
        memset(f->plane[0] + (size_t)y * (size_t)f->stride[0] + sx, 225, (size_t)side);
    for (int p = 1; p < 3; p++)
        for (int y = sy / 2; y < (sy + side) / 2; y++)
            memset(f->plane[p] + (size_t)y * (size_t)f->stride[p] + sx / 2,
                   p == 1 ? 255 - bu : 255 - bv, (size_t)side / 2);
}

static void encode_clip(clip_t *c, int who, const uplink_t *up, int talkers)
{
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, up->w, up->h, up->kbps);
    vc.fps_num = FPS;
    vc.fps_den = 1;
    vc.intra_refresh = 0;
    vc.keyint_max = 100000; /* like libwebrtc: an IDR at the start and when asked, no others */
    tf_venc_t *enc = NULL;
    tf_frame_t *f = tf_frame_alloc(up->w, up->h);
    int e = tf_venc_create(&enc, &vc);
    if (e < 0 || !f)
        die("cannot create the uplink H.264 encoder", e);
    for (int k = 0; k < V_FRAMES; k++) {
        draw_pattern(f, who, k);
        f->pts_us = (int64_t)k * 1000000 / FPS;
        tf_venc_packet_t au;
        c->vfirst[k] = c->n_vpk;
        if ((e = tf_venc_encode(enc, f, k == 0, &au)) < 0)
            die("uplink encode failed", e);
        if (k == 0 && !au.keyframe)
            die("the clip does not start with an IDR", 0);
        if (au.size == 0)
            continue;
        tf_rtp_h264_packetizer_t pk;
        if ((e = tf_rtp_h264_packetize_init(&pk, &au, MAX_PAYLOAD)) < 0)
            die("packetizer refused an access unit", e);
        uint8_t pay[MAX_PAYLOAD + 16];
        bool marker;
        int n;
        while ((n = tf_rtp_h264_packetize_next(&pk, pay, sizeof(pay), &marker)) > 0)
            clip_add_vpkt(c, pay, (size_t)n, marker);
        if (n != -EAGAIN)
            die("packetizer failed", n);
    }
    c->vfirst[V_FRAMES] = c->n_vpk;
    tf_venc_destroy(&enc);
    tf_frame_unref(&f);

    tf_opus_enc_config_t oc;
    tf_opus_enc_config_default(&oc);
    oc.bitrate_bps = 32000; /* what a browser sends for mono voice */
    tf_opus_enc_t *oe = NULL;
    if ((e = tf_opus_enc_create(&oe, &oc)) < 0)
        die("cannot create the uplink Opus encoder", e);
    float pcm[A_SAMPLES];
    /* A lesson: the first `talkers` participants speak; the others listen, and their microphones
     * pick up a room's quiet background (about -63 dBov). */
    double f0 = 130.0 + 13.0 * who, amp = who < talkers ? 0.10 + 0.03 * (who % 4) : 0.001;
    double phase = 0;
    for (int k = 0; k < A_FRAMES; k++) {
        double sum = 0;
        for (int i = 0; i < A_SAMPLES; i++) {
            double t = (double)(k * A_SAMPLES + i) / TF_OPUS_RATE;
            double env = 0.6 + 0.4 * sin(2 * M_PI * 3.5 * t + who); /* syllables */
            phase += 2 * M_PI * f0 / TF_OPUS_RATE;
            double s = amp * env * (0.7 * sin(phase) + 0.2 * sin(2 * phase) + 0.1 * sin(3 * phase));
            pcm[i] = (float)s;
            sum += s * s;
        }
        double dbov = -10 * log10(sum / A_SAMPLES + 1e-12) - 3.01; /* full-scale sine = 0 dBov */
        c->alevel[k] = (uint8_t)(dbov < 0 ? 0 : dbov > 127 ? 127 : dbov);
        int n = tf_opus_enc_encode(oe, pcm, c->apay[k], A_MAX);
        if (n < 0)
            die("uplink Opus encode failed", n);
        c->alen[k] = (uint16_t)n;
    }
    tf_opus_enc_destroy(&oe);
}

/* ---- one simulated room ------------------------------------------------------------------- */

typedef struct counters {
    uint64_t pkts, bytes, payload;
} counters_t;

typedef struct part {
    const clip_t *clip;
    uint32_t id, vssrc, assrc, out_vssrc, out_assrc;
    uint16_t vseq, aseq;
    uint32_t vts, ats;
    int vframe, aframe; /* next clip frame */
    int pli;            /* restart at the IDR with the next frame */
    uint64_t v_start_us, next_v_us, next_a_us, v_sent, a_sent;
    counters_t up_v, up_a;                /* what this participant sent in the window */
    counters_t down_v, down_a, down_rtcp; /* what the room sent it in the window */
    uint64_t plis, nacks, bad_pkts;
    int budget_w, budget_h, budget_kbps; /* the room's last 'uplink' event to this sender */
} part_t;

typedef struct result {
    double cpu_s, sim_s;
    tf_room_stats_t st;
    double up_v_kbps, up_a_kbps, up_pay_kbps;       /* mean per sender: packets, payload */
    double down_v_kbps, down_a_kbps, down_pay_kbps; /* mean per receiver */
    double down_min_kbps, down_max_kbps;
    uint64_t plis, nacks, bad_pkts, events, spins, tier_events;
    int budget_w, budget_h, budget_kbps_min, budget_kbps_max; /* over the senders */
    int starved; /* receivers without video or audio in the window */
    uint64_t frames_encoded, frames_decoded, keyframes_sent, out_dropped, decode_errors;
    uint64_t tier_changes;
} result_t;

static void count(counters_t *c, uint64_t bytes, uint64_t payload)
{
    c->pkts++;
    c->bytes += bytes;
    c->payload += payload;
}

static void send_video(tf_room_t *room, part_t *p, uint64_t now, int counting)
{
    if (p->pli) {
        p->vframe = 0; /* the clip starts with an IDR */
        p->pli = 0;
    }
    const clip_t *c = p->clip;
    for (int i = c->vfirst[p->vframe]; i < c->vfirst[p->vframe + 1]; i++) {
        tf_rtp_packet_t rp;
        memset(&rp, 0, sizeof(rp));
        rp.payload_type = PT_H264;
        rp.marker = c->vpk[i].marker;
        rp.seq = p->vseq++;
        rp.timestamp = p->vts;
        rp.ssrc = p->vssrc;
        rp.payload = c->vbytes + c->vpk[i].off;
        rp.payload_len = c->vpk[i].len;
        uint8_t buf[1500];
        int n = tf_rtp_marshal_to(&rp, buf, sizeof(buf));
        if (n < 0)
            die("uplink RTP marshal failed", n);
        tf_room_rtp_in(room, p->id, now, buf, (size_t)n);
        if (counting)
            count(&p->up_v, (uint64_t)n, rp.payload_len);
    }
    p->vframe = (p->vframe + 1) % V_FRAMES;
    p->vts += 90000 / FPS;
    p->v_sent++;
}

static void send_audio(tf_room_t *room, part_t *p, uint64_t now, int counting)
{
    const clip_t *c = p->clip;
    int k = p->aframe;
    tf_rtp_packet_t rp;
    memset(&rp, 0, sizeof(rp));
    rp.payload_type = PT_OPUS;
    rp.seq = p->aseq++;
    rp.timestamp = p->ats;
    rp.ssrc = p->assrc;
    rp.payload = c->apay[k];
    rp.payload_len = c->alen[k];
    uint8_t lvl[1];
    tf_rtp_put_audio_level(lvl, true, c->alevel[k]);
    tf_rtp_ext_set(&rp, EXT_AUDIO_LEVEL, lvl, 1);
    rp.ext_profile = TF_RTP_EXT_ONE_BYTE;
    uint8_t buf[1500];
    int n = tf_rtp_marshal_to(&rp, buf, sizeof(buf));
    if (n < 0)
        die("uplink RTP marshal failed", n);
    tf_room_rtp_in(room, p->id, now, buf, (size_t)n);
    if (counting)
        count(&p->up_a, (uint64_t)n, rp.payload_len);
    p->aframe = (k + 1) % A_FRAMES;
    p->ats += A_SAMPLES;
    p->a_sent++;
}

/* What the room sent each member: media bytes, and PLIs/NACKs about what that member sends. */
static void drain(tf_room_t *room, part_t *parts, int n, int counting, result_t *res)
{
    static tf_room_out_t o; /* 1.5 kB: not on the stack of every call */
    while (tf_room_poll_out(room, &o) == 0) {
        int i = (int)o.member - ID_BASE;
        if (i < 0 || i >= n)
            die("a packet for a member that does not exist", 0);
        part_t *p = &parts[i];
        if (o.rtcp) {
            tf_rtcp_iter_t it;
            tf_rtcp_packet_t rp;
            if (tf_rtcp_iter_init(&it, o.data, o.len) < 0) {
                p->bad_pkts++;
                continue;
            }
            while (tf_rtcp_iter_next(&it, &rp) == 1) {
                if (rp.type == TF_RTCP_PLI && rp.pli.media_ssrc == p->vssrc) {
                    p->pli = 1;
                    p->plis += counting != 0;
                } else if (rp.type == TF_RTCP_NACK && rp.nack.media_ssrc == p->vssrc) {
                    p->nacks += counting != 0; /* nothing is lost here, so none expected */
                }
            }
            if (counting)
                count(&p->down_rtcp, o.len, 0);
            continue;
        }
        tf_rtp_packet_t rp;
        if (tf_rtp_parse(&rp, o.data, o.len) < 0) {
            p->bad_pkts++;
            continue;
        }
        if (rp.payload_type == PT_H264 && rp.ssrc == p->out_vssrc) {
            if (counting)
                count(&p->down_v, o.len, rp.payload_len);
        } else if (rp.payload_type == PT_OPUS && rp.ssrc == p->out_assrc) {
            if (counting)
                count(&p->down_a, o.len, rp.payload_len);
        } else {
            p->bad_pkts++;
        }
    }
    uint32_t to;
    char *json;
    while (tf_room_poll_event(room, &to, &json) == 0) {
        res->events++;
        int i = (int)to - ID_BASE;
        if (strstr(json, "\"type\": \"tier\""))
            res->tier_events++;
        if (i >= 0 && i < n && strstr(json, "\"type\": \"uplink\"")) {
            const char *w = strstr(json, "\"width\": "), *h = strstr(json, "\"height\": "),
                       *k = strstr(json, "\"kbps\": ");
            if (w && h && k) {
                parts[i].budget_w = atoi(w + 9);
                parts[i].budget_h = atoi(h + 10);
                parts[i].budget_kbps = atoi(k + 8);
            }
        }
        free(json);
    }
}

static void member_info(tf_member_info_t *mi, const part_t *p, int who)
{
    memset(mi, 0, sizeof(*mi));
    mi->id = p->id;
    snprintf(mi->name, sizeof(mi->name), "pupil %02d", who + 1);
    tf_member_media_t *a = &mi->audio, *v = &mi->video;
    a->present = a->sends = a->receives = 1;
    a->codec = TF_SDP_CODEC_OPUS;
    a->pt = PT_OPUS;
    a->rtx_pt = -1;
    a->out_ssrc = p->out_assrc;
    a->in_ssrc = p->assrc;
    a->ext[TF_SDP_EXT_AUDIO_LEVEL] = EXT_AUDIO_LEVEL;
    v->present = v->sends = v->receives = 1;
    v->codec = TF_SDP_CODEC_H264;
    v->pt = PT_H264;
    v->rtx_pt = -1;
    v->out_ssrc = p->out_vssrc;
    v->in_ssrc = p->vssrc;
    v->fb = TF_SDP_FB_NACK | TF_SDP_FB_PLI;
}

static double kbps(uint64_t bytes, double s)
{
    return (double)bytes * 8 / s / 1000;
}

static void run_room(const clip_t *clips, int n, int per_member, uint64_t warm_us,
                     uint64_t measure_us, result_t *res)
{
    static part_t parts[MAX_N];
    memset(res, 0, sizeof(*res));
    memset(parts, 0, sizeof(parts));
    /* The same seed for every round of a configuration: rounds repeat identical work. */
    uint64_t rng = SEED ^ (uint64_t)n << 8 ^ (uint64_t)per_member;
    uint64_t now = T0_US;
    tf_room_config_t cfg = {.max_speakers = 0, .per_member_encoders = per_member, .cpu_mask = ~0u};
    tf_room_t *room = NULL;
    int e = tf_room_create(&room, "bench", &cfg, now);
    if (e < 0)
        die("tf_room_create", e);
    for (int i = 0; i < n; i++) {
        part_t *p = &parts[i];
        p->clip = &clips[i];
        p->id = (uint32_t)(ID_BASE + i);
        p->vssrc = (uint32_t)splitmix(&rng);
        p->assrc = (uint32_t)splitmix(&rng);
        p->out_vssrc = (uint32_t)splitmix(&rng);
        p->out_assrc = (uint32_t)splitmix(&rng);
        p->vseq = (uint16_t)splitmix(&rng);
        p->aseq = (uint16_t)splitmix(&rng);
        p->vts = (uint32_t)splitmix(&rng);
        p->ats = (uint32_t)splitmix(&rng);
        /* Browsers do not start in step: spread the first frame over one interval. */
        p->v_start_us = p->next_v_us = now + splitmix(&rng) % (1000000 / FPS);
        p->next_a_us = now + splitmix(&rng) % 20000;
        tf_member_info_t mi;
        member_info(&mi, p, i);
        if ((e = tf_room_join(room, &mi, now)) < 0)
            die("tf_room_join", e);
    }
    uint64_t win = now + warm_us, end = win + measure_us;
    int counting = 0, stuck = 0;
    tf_room_stats_t st0;
    memset(&st0, 0, sizeof(st0));
    double cpu0 = 0;
    while (now < end) {
        if (!counting && now >= win) {
            counting = 1;
            tf_room_get_stats(room, &st0);
            cpu0 = cpu_now();
        }
        for (int i = 0; i < n; i++) {
            part_t *p = &parts[i];
            while (p->next_v_us <= now) {
                send_video(room, p, now, counting);
                p->next_v_us = p->v_start_us + p->v_sent * 1000000 / FPS;
            }
            while (p->next_a_us <= now) {
                send_audio(room, p, now, counting);
                p->next_a_us += 20000;
            }
        }
        drain(room, parts, n, counting, res);
        if (tf_room_next_deadline(room) <= now) {
            tf_room_tick(room, now);
            drain(room, parts, n, counting, res);
        }
        uint64_t next = tf_room_next_deadline(room);
        for (int i = 0; i < n; i++) {
            next = parts[i].next_v_us < next ? parts[i].next_v_us : next;
            next = parts[i].next_a_us < next ? parts[i].next_a_us : next;
        }
        if (next <= now) {
            /* The room keeps asking to run now: let it, but do not spin forever. */
            if (++stuck > 100) {
                res->spins++;
                stuck = 0;
                next = now + 1000;
            } else {
                next = now;
            }
        } else {
            stuck = 0;
        }
        now = next;
    }
    res->cpu_s = cpu_now() - cpu0;
    res->sim_s = (double)measure_us / 1e6;
    tf_room_get_stats(room, &res->st);
    res->frames_encoded = res->st.frames_encoded - st0.frames_encoded;
    res->frames_decoded = res->st.frames_decoded - st0.frames_decoded;
    res->keyframes_sent = res->st.keyframes_sent - st0.keyframes_sent;
    res->out_dropped = res->st.out_dropped - st0.out_dropped;
    res->decode_errors = res->st.decode_errors - st0.decode_errors;
    res->tier_changes = res->st.tier_changes - st0.tier_changes;
    tf_room_destroy(&room);

    double s = res->sim_s;
    res->down_min_kbps = 1e30;
    res->budget_kbps_min = 1 << 30;
    for (int i = 0; i < n; i++) {
        const part_t *p = &parts[i];
        res->up_v_kbps += kbps(p->up_v.bytes, s) / n;
        res->up_a_kbps += kbps(p->up_a.bytes, s) / n;
        res->up_pay_kbps += kbps(p->up_v.payload + p->up_a.payload, s) / n;
        res->down_v_kbps += kbps(p->down_v.bytes, s) / n;
        res->down_a_kbps += kbps(p->down_a.bytes, s) / n;
        res->down_pay_kbps += kbps(p->down_v.payload + p->down_a.payload, s) / n;
        double d = kbps(p->down_v.bytes + p->down_a.bytes, s);
        res->down_min_kbps = d < res->down_min_kbps ? d : res->down_min_kbps;
        res->down_max_kbps = d > res->down_max_kbps ? d : res->down_max_kbps;
        if (p->budget_w * p->budget_h > res->budget_w * res->budget_h) {
            res->budget_w = p->budget_w;
            res->budget_h = p->budget_h;
        }
        if (p->budget_kbps < res->budget_kbps_min)
            res->budget_kbps_min = p->budget_kbps;
        if (p->budget_kbps > res->budget_kbps_max)
            res->budget_kbps_max = p->budget_kbps;
        res->plis += p->plis;
        res->nacks += p->nacks;
        res->bad_pkts += p->bad_pkts;
        if (!p->down_v.pkts || !p->down_a.pkts) {
            res->starved++;
            fprintf(stderr,
                    "bench_room: N=%d %s: receiver %u got %llu video and %llu audio "
                    "packets in the window\n",
                    n, per_member ? "per-member" : "shared", p->id,
                    (unsigned long long)p->down_v.pkts, (unsigned long long)p->down_a.pkts);
        }
    }
}

/* ---- the run ------------------------------------------------------------------------------ */

#define N_SIZES 3
static int room_sizes[N_SIZES] = {5, 15, 30};

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_room [--quick] [--rounds R] [--seconds S]\n"
            "  --quick      N = 5 only, 1 s warm-up + 2 s measured, 1 round (CI smoke)\n"
            "  --rounds R   rounds per configuration, median reported (default 3)\n"
            "  --seconds S  simulated seconds measured after 2 s warm-up (default 10)\n"
            "  --n N        one room of N participants (2..%d) instead of 5, 15, 30\n"
            "  --mode M     shared or per-member only (for profiling; no ratios)\n"
            "  --uplink WxH@K  what each browser sends (default 320x180@150 kbit/s)\n"
            "  --talkers K  participants who speak; the rest are quiet (default 3; 999 = all)\n",
            MAX_N);
    exit(2);
}

static const char *mode_name(int per_member)
{
    return per_member ? "per-member" : "shared";
}

int main(int argc, char **argv)
{
    int quick = 0, rounds = 3, only_n = 0, only_mode = -1, talkers = 3;
    uplink_t up = {320, 180, 150}; /* a pupil's tile under the uplink budget (DESIGN §4) */
    double seconds = 10, warm = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--uplink") && i + 1 < argc &&
                 sscanf(argv[i + 1], "%dx%d@%d", &up.w, &up.h, &up.kbps) == 3)
            i++;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            only_n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--talkers") && i + 1 < argc)
            talkers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc && !strcmp(argv[i + 1], "shared"))
            only_mode = 0, i++;
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc && !strcmp(argv[i + 1], "per-member"))
            only_mode = 1, i++;
        else
            usage();
    }
    if (quick) {
        rounds = 1;
        seconds = 2;
        warm = 1;
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || seconds < 0.5 || seconds > 600 ||
        (only_n && (only_n < 2 || only_n > MAX_N)) || up.w < 16 || up.w > 1920 || up.w % 2 ||
        up.h < 16 || up.h > 1080 || up.h % 2 || up.kbps < 10 || up.kbps > 5000)
        usage();
    if (only_n)
        room_sizes[0] = only_n;
    int n_sizes = quick || only_n ? 1 : N_SIZES, max_n = room_sizes[n_sizes - 1];
    uint64_t warm_us = (uint64_t)(warm * 1e6), measure_us = (uint64_t)(seconds * 1e6);

    clip_t *clips = calloc((size_t)max_n, sizeof(*clips));
    if (!clips)
        die("out of memory", 0);
    double c0 = cpu_now();
    for (int i = 0; i < max_n; i++)
        encode_clip(&clips[i], i, &up, talkers);
    fprintf(stderr, "bench_room: encoded %d clips of %d s in %.1f s CPU (seed %#llx)\n", max_n,
            CLIP_S, cpu_now() - c0, (unsigned long long)SEED);

    static result_t res[N_SIZES][2][MAX_ROUNDS];
    double total_cpu = 0;
    for (int r = 0; r < rounds; r++) {
        for (int si = 0; si < n_sizes; si++) {
            for (int k = 0; k < 2; k++) {
                int pm = (k + r + si) % 2; /* alternate which mode goes first */
                if (only_mode >= 0 && pm != only_mode)
                    continue;
                result_t *x = &res[si][pm][r];
                run_room(clips, room_sizes[si], pm, warm_us, measure_us, x);
                total_cpu += x->cpu_s;
                fprintf(stderr,
                        "bench_room: round %d/%d N=%-2d %-10s %6.2f s CPU for %.0f simulated s, "
                        "%d video + %d audio encoders, %.0f kbit/s per receiver; whole run: "
                        "%llu key frames, %llu packets dropped\n",
                        r + 1, rounds, room_sizes[si], mode_name(pm), x->cpu_s, x->sim_s,
                        x->st.video_encoders, x->st.audio_encoders, x->down_v_kbps + x->down_a_kbps,
                        (unsigned long long)x->st.keyframes_sent,
                        (unsigned long long)x->st.out_dropped);
            }
        }
    }

    int failed = 0;
    if (only_mode >= 0) { /* profiling: the progress lines above are the result */
        for (int r = 0; r < rounds; r++)
            failed |= res[0][only_mode][r].starved || res[0][only_mode][r].bad_pkts;
        goto out;
    }
    double cpu_med[N_SIZES][2], cpu_min[N_SIZES][2], cpu_max[N_SIZES][2];
    for (int si = 0; si < n_sizes; si++) {
        for (int pm = 0; pm < 2; pm++) {
            double v[MAX_ROUNDS];
            cpu_min[si][pm] = 1e30;
            cpu_max[si][pm] = 0;
            for (int r = 0; r < rounds; r++) {
                const result_t *x = &res[si][pm][r];
                v[r] = x->cpu_s / x->sim_s;
                cpu_min[si][pm] = v[r] < cpu_min[si][pm] ? v[r] : cpu_min[si][pm];
                cpu_max[si][pm] = v[r] > cpu_max[si][pm] ? v[r] : cpu_max[si][pm];
                failed |= x->starved || x->bad_pkts;
            }
            cpu_med[si][pm] = median(v, rounds);
        }
    }

    printf("### Room engine: shared tier encoders vs one video encoder per receiver\n\n");
    printf("N simulated browsers in one room (server/room.h, in-process, no network), each sending "
           "H.264 %dx%d @ %d fps (~%d kbit/s target) and Opus 20 ms at 32 kbit/s with RFC 6464 "
           "levels; %d of them speak, the others are quiet (as in a lesson); every receiver "
           "on the medium tier (640x360 @ 15 fps, 400 kbit/s). %.0f s simulated after %.0f s "
           "warm-up, median of %d interleaved round%s; CPU is process CPU time (min–max over "
           "rounds in brackets).\n\n",
           up.w, up.h, FPS, up.kbps, talkers, seconds, warm, rounds, rounds > 1 ? "s" : "");
    /* The engine may serve fewer receivers than asked in per-member mode (it has a fixed number
     * of encoder pipes). Such a row is marked, and a linear estimate for one encoder per
     * receiver is added: per-member CPU plus the missing pipes at the measured cost of one pipe,
     * (per-member - shared) / (their encoder difference), which holds because both modes
     * decode and mix the same senders. */
    double est[N_SIZES];
    int capped[N_SIZES];
    printf("| N | mode | video encoders | audio encoders | CPU s per simulated s | "
           "CPU ms per participant per s | shared ÷ per-member CPU | Tafel downstream kbit/s "
           "per receiver (measured) | SFU kbit/s per receiver (computed: (N−1) × uplink) | "
           "Tafel ÷ SFU |\n");
    printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int si = 0; si < n_sizes; si++) {
        int n = room_sizes[si];
        const result_t *xs = &res[si][0][rounds - 1], *xp = &res[si][1][rounds - 1];
        int ve_s = xs->st.video_encoders, ve_p = xp->st.video_encoders;
        capped[si] = ve_p < n && ve_p > ve_s;
        est[si] = cpu_med[si][1];
        if (capped[si])
            est[si] += (n - ve_p) * (cpu_med[si][1] - cpu_med[si][0]) / (ve_p - ve_s);
        for (int pm = 0; pm < 2; pm++) {
            const result_t *x = pm ? xp : xs;
            double down = x->down_v_kbps + x->down_a_kbps;
            double sfu = (x->up_v_kbps + x->up_a_kbps) * (n - 1);
            char ratio[96] = "";
            if (!pm && capped[si])
                snprintf(ratio, sizeof(ratio),
                         "%.3f (1/%.1f) vs %d encoders †; %.3f (1/%.1f) "
                         "vs %d (computed)",
                         cpu_med[si][0] / cpu_med[si][1], cpu_med[si][1] / cpu_med[si][0], ve_p,
                         cpu_med[si][0] / est[si], est[si] / cpu_med[si][0], n);
            else if (!pm)
                snprintf(ratio, sizeof(ratio), "%.3f (1/%.1f)", cpu_med[si][0] / cpu_med[si][1],
                         cpu_med[si][1] / cpu_med[si][0]);
            printf("| %d | %s%s | %d | %d | %.3f (%.3f–%.3f) | %.2f | %s | %.0f%s | %.0f | %.2f "
                   "|\n",
                   n, mode_name(pm), pm && capped[si] ? " †" : "", x->st.video_encoders,
                   x->st.audio_encoders, cpu_med[si][pm], cpu_min[si][pm], cpu_max[si][pm],
                   cpu_med[si][pm] * 1000 / n, ratio, down, pm && capped[si] ? " †" : "", sfu,
                   down / sfu);
        }
        if (capped[si])
            printf("| %d | per-member, extrapolated to %d encoders (computed) | %d | %d | %.3f | "
                   "%.2f | | — | — | — |\n",
                   n, n, n, xp->st.audio_encoders, est[si], est[si] * 1000 / n);
    }
    for (int si = 0; si < n_sizes; si++)
        if (capped[si])
            printf("\n† N = %d, per-member: the engine made only %d video encoders, so %d "
                   "receivers got no video at all (room_internal.h MAX_PIPES = 16); the measured "
                   "CPU is for %d encoders and the mean downstream includes receivers without "
                   "video. The extrapolated row adds the missing encoders at the measured cost "
                   "of one: (per-member − shared) / %d encoders.\n",
                   room_sizes[si], res[si][1][rounds - 1].st.video_encoders,
                   res[si][1][rounds - 1].starved, res[si][1][rounds - 1].st.video_encoders,
                   res[si][1][rounds - 1].st.video_encoders -
                       res[si][0][rounds - 1].st.video_encoders);
    printf("\nBytes are whole RTP packets as the room emits them (12-byte header, extensions, "
           "payload; before SRTP, UDP and IP), audio and video together, RTCP not included. The "
           "SFU figure is the senders' measured mean uplink (video + audio RTP packets) times N−1: "
           "what a forwarding server would send each receiver without simulcast or last-N.\n\n");

    printf("| N | mode | uplink per sender kbit/s (video + audio) | uplink budget the room "
           "asked for | Tafel per receiver kbit/s (video + audio) | min–max receiver | payload "
           "only: Tafel / SFU kbit/s | frames decoded / encoded per s (decode errors) | key frames "
           "| PLIs / NACKs to "
           "senders | tier changes | dropped |\n");
    printf("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int si = 0; si < n_sizes; si++) {
        int n = room_sizes[si];
        for (int pm = 0; pm < 2; pm++) {
            const result_t *x = &res[si][pm][rounds - 1];
            char budget[64] = "none";
            if (x->budget_w && x->budget_kbps_min == x->budget_kbps_max)
                snprintf(budget, sizeof(budget), "%dx%d, %d kbit/s", x->budget_w, x->budget_h,
                         x->budget_kbps_max);
            else if (x->budget_w)
                snprintf(budget, sizeof(budget), "%dx%d, %d–%d kbit/s", x->budget_w, x->budget_h,
                         x->budget_kbps_min, x->budget_kbps_max);
            printf("| %d | %s | %.0f + %.0f | %s | %.0f + %.0f | %.0f–%.0f | %.0f / %.0f | %.0f / "
                   "%.0f "
                   "(%llu) | %llu | %llu / %llu | %llu | %llu |\n",
                   n, mode_name(pm), x->up_v_kbps, x->up_a_kbps, budget, x->down_v_kbps,
                   x->down_a_kbps, x->down_min_kbps, x->down_max_kbps, x->down_pay_kbps,
                   x->up_pay_kbps * (n - 1), (double)x->frames_decoded / x->sim_s,
                   (double)x->frames_encoded / x->sim_s, (unsigned long long)x->decode_errors,
                   (unsigned long long)x->keyframes_sent, (unsigned long long)x->plis,
                   (unsigned long long)x->nacks, (unsigned long long)x->tier_changes,
                   (unsigned long long)x->out_dropped);
        }
    }
    printf("\nCounts are for the measured window. Receivers send no RTCP, so their bandwidth "
           "estimate stays at its start value and they stay on the medium tier; the simulated "
           "browsers keep sending %dx%d whatever uplink budget the room announces.\n",
           up.w, up.h);
    if (n_sizes == N_SIZES) {
        int s30 = N_SIZES - 1;
        double ratio = cpu_med[s30][0] / cpu_med[s30][1], ratio_est = cpu_med[s30][0] / est[s30];
        printf("\nTarget at N = 30: shared CPU ≤ 1/8 of per-member CPU. Measured %.3f (1/%.1f): "
               "%s",
               ratio, 1 / ratio, ratio <= 0.125 ? "met" : "NOT met");
        if (capped[s30])
            printf(" (against %d encoders); against the extrapolated %d encoders %.3f (1/%.1f): "
                   "%s",
                   res[s30][1][rounds - 1].st.video_encoders, room_sizes[s30], ratio_est,
                   1 / ratio_est, ratio_est <= 0.125 ? "met" : "NOT met");
        printf(".\n");
    }
    fprintf(stderr, "bench_room: %.1f s CPU in the measured windows\n", total_cpu);

    for (int si = 0; si < n_sizes; si++)
        for (int pm = 0; pm < 2; pm++)
            for (int r = 0; r < rounds; r++) {
                const result_t *x = &res[si][pm][r];
                if (x->starved)
                    fprintf(stderr,
                            "bench_room: ERROR N=%d %s round %d: %d of %d receivers got "
                            "no video or no audio (%d video encoders)\n",
                            room_sizes[si], mode_name(pm), r + 1, x->starved, room_sizes[si],
                            x->st.video_encoders);
                if (x->bad_pkts)
                    fprintf(stderr,
                            "bench_room: ERROR N=%d %s round %d: %llu packets with a "
                            "wrong SSRC, payload type or framing\n",
                            room_sizes[si], mode_name(pm), r + 1, (unsigned long long)x->bad_pkts);
                if (x->spins)
                    fprintf(stderr,
                            "bench_room: warning N=%d %s: the room asked to run at the "
                            "same instant over 100 times in a row (%llu times)\n",
                            room_sizes[si], mode_name(pm), (unsigned long long)x->spins);
            }
out:
    for (int i = 0; i < max_n; i++) {
        free(clips[i].vbytes);
        free(clips[i].vpk);
    }
    free(clips);
    return failed ? 1 : 0;
}
