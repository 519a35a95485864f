/* cmd_mix.c — `tafel mix`: the MCU's media path on files. Decodes every input, composites one
 * picture and one sound per output tick, encodes H.264 + Opus and writes Matroska or MP4.
 * Single-threaded on purpose (one encoder per thread is the server's model too). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec/media_file.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "mixer/audio_mix.h"
#include "mixer/compositor.h"
#include "mixer/cpu.h"
#include "mixer/layout.h"
#include "mixer/tier.h"
#include "server/commands.h"

#define MAX_INPUTS TF_LAYOUT_MAX_TILES

typedef struct mix_opts {
    const char *out;
    tf_layout_kind_t layout;
    int layout_set;
    tf_tier_id_t tier;
    double duration_s;  /* <= 0: the longest input */
    int speakers;
    int bitrate_kbps;   /* 0: the tier's */
    const char *preset;
    unsigned cpu_mask;
    int quiet;
} mix_opts_t;

typedef struct mix_input {
    const char *path;
    char name[64];
    tf_media_reader_t *reader;
} mix_input_t;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: tafel mix IN... -o OUT [options]\n"
            "\n"
            "Decodes every input (anything FFmpeg reads), composites one picture and mixes one\n"
            "sound, and writes H.264 (constrained baseline) + Opus to OUT (.mkv or .mp4).\n"
            "\n"
            "options:\n"
            "  -o, --output FILE       output file (required)\n"
            "  -l, --layout KIND       grid | speaker | presentation (default: the tier's)\n"
            "  -t, --tier TIER         low (320x180) | medium (640x360) | high (1280x720);\n"
            "                          default medium\n"
            "  -d, --duration S        seconds to mix (default: the longest input)\n"
            "  -k, --speakers K        loudest inputs mixed into the sound (default 3)\n"
            "  -b, --bitrate KBPS      video bitrate (default: the tier's)\n"
            "      --preset NAME       x264 preset (default veryfast)\n"
            "      --cpu LEVEL         limit SIMD: c | sse2 | avx2 (default: best available)\n"
            "  -q, --quiet             no progress line\n"
            "  -h, --help              this text\n");
}

static int parse_opts(int argc, char **argv, mix_opts_t *o, int *first_input)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},  {"layout", required_argument, NULL, 'l'},
        {"tier", required_argument, NULL, 't'},    {"duration", required_argument, NULL, 'd'},
        {"speakers", required_argument, NULL, 'k'}, {"bitrate", required_argument, NULL, 'b'},
        {"preset", required_argument, NULL, 'P'},  {"cpu", required_argument, NULL, 'C'},
        {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->tier = TF_TIER_MEDIUM;
    o->speakers = 3;
    o->cpu_mask = ~0u;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:l:t:d:k:b:qh", longopts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'o':
            o->out = optarg;
            break;
        case 'l':
            if (tf_layout_kind_parse(optarg, &o->layout) < 0) {
                fprintf(stderr, "tafel mix: unknown layout '%s' (grid, speaker, presentation)\n",
                        optarg);
                return 2;
            }
            o->layout_set = 1;
            break;
        case 't':
            if (tf_tier_parse(optarg, &o->tier) < 0 || o->tier == TF_TIER_AUDIO) {
                fprintf(stderr, "tafel mix: unknown tier '%s' (low, medium, high)\n", optarg);
                return 2;
            }
            break;
        case 'd':
            o->duration_s = strtod(optarg, &end);
            if (!end || *end || o->duration_s <= 0 || o->duration_s > 86400) {
                fprintf(stderr, "tafel mix: --duration wants seconds > 0, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'k':
            o->speakers = (int)strtol(optarg, &end, 10);
            if (!end || *end || o->speakers < 1 || o->speakers > 16) {
                fprintf(stderr, "tafel mix: --speakers wants 1..16, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'b':
            o->bitrate_kbps = (int)strtol(optarg, &end, 10);
            if (!end || *end || o->bitrate_kbps < 30 || o->bitrate_kbps > 20000) {
                fprintf(stderr, "tafel mix: --bitrate wants 30..20000 kbit/s, not '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case 'P':
            o->preset = optarg;
            break;
        case 'C':
            if (strcmp(optarg, "c") == 0)
                o->cpu_mask = 0;
            else if (strcmp(optarg, "sse2") == 0)
                o->cpu_mask = TF_CPU_SSE2;
            else if (strcmp(optarg, "avx2") == 0)
                o->cpu_mask = ~0u;
            else {
                fprintf(stderr, "tafel mix: unknown --cpu level '%s' (c, sse2, avx2)\n", optarg);
                return 2;
            }
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o->out) {
        fprintf(stderr, "tafel mix: no output file (-o OUT)\n");
        return 2;
    }
    if (optind >= argc) {
        fprintf(stderr, "tafel mix: no input files\n");
        return 2;
    }
    if (argc - optind > MAX_INPUTS) {
        fprintf(stderr, "tafel mix: at most %d inputs\n", MAX_INPUTS);
        return 2;
    }
    *first_input = optind;
    return 0;
}

/* The tile label: the file name without folders and extension. */
static void input_name(const char *path, char *out, size_t len)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, len, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct mix_state {
    const mix_opts_t *o;
    const tf_tier_t *tier;
    mix_input_t in[MAX_INPUTS];
    int n;
    tf_compositor_t *comp;
    tf_frame_t *canvas;
    tf_venc_t *venc;
    tf_opus_enc_t *aenc;
    tf_amix_t *amix;
    tf_media_writer_t *w;
    int opus_frame; /* samples per Opus packet */
    float *abuf;    /* Opus frame being filled */
    int abuf_len;
    int64_t audio_pts;
    uint64_t video_bytes, audio_bytes, video_frames;
} mix_state_t;

/* Tile i shows input order[i]: in speaker layout the active speaker moves to tile 0. */
static int video_tick(mix_state_t *s, int64_t t_us)
{
    int order[MAX_INPUTS];
    for (int i = 0; i < s->n; i++)
        order[i] = i;
    int active = tf_amix_active_speaker(s->amix);
    if (active > 0 && s->o->layout == TF_LAYOUT_SPEAKER) {
        order[0] = active;
        for (int i = 1; i <= active; i++)
            order[i] = i - 1;
    }
    for (int i = 0; i < s->n; i++) {
        mix_input_t *in = &s->in[order[i]];
        tf_frame_t *f = NULL;
        int e = tf_media_reader_video_at(in->reader, t_us, &f);
        if (e < 0) {
            fprintf(stderr, "\ntafel mix: %s\n", tf_media_reader_error(in->reader));
            return e;
        }
        tf_compositor_set_source(s->comp, i, f, in->name);
        tf_frame_unref(&f);
    }
    int e = tf_compositor_render(s->comp, s->canvas);
    if (e < 0)
        return e;
    s->canvas->pts_us = t_us;
    tf_venc_packet_t pkt;
    e = tf_venc_encode(s->venc, s->canvas, s->video_frames == 0, &pkt);
    if (e < 0) {
        fprintf(stderr, "\ntafel mix: video encoder failed (%s)\n", strerror(-e));
        return e;
    }
    s->video_frames++;
    if (pkt.size == 0)
        return 0;
    s->video_bytes += pkt.size;
    return tf_media_writer_video(s->w, pkt.data, pkt.size, pkt.pts_us, pkt.keyframe);
}

static int audio_tick(mix_state_t *s)
{
    float pcm[TF_AMIX_FRAME];
    for (int i = 0; i < s->n; i++) {
        int got = tf_media_reader_audio(s->in[i].reader, pcm, TF_AMIX_FRAME);
        if (got < 0) {
            fprintf(stderr, "\ntafel mix: %s\n", tf_media_reader_error(s->in[i].reader));
            return got;
        }
        if (got > 0)
            tf_amix_put(s->amix, i, pcm, 1);
    }
    int e = tf_amix_run(s->amix);
    if (e < 0)
        return e;
    memcpy(s->abuf + s->abuf_len, tf_amix_full_mix(s->amix), sizeof(float) * TF_AMIX_FRAME);
    s->abuf_len += TF_AMIX_FRAME;
    if (s->abuf_len < s->opus_frame)
        return 0;
    uint8_t packet[TF_OPUS_MAX_PACKET];
    int len = tf_opus_enc_encode(s->aenc, s->abuf, packet, sizeof(packet));
    if (len < 0) {
        fprintf(stderr, "\ntafel mix: audio encoder failed (%s)\n", strerror(-len));
        return len;
    }
    s->abuf_len = 0;
    s->audio_bytes += (uint64_t)len;
    e = tf_media_writer_audio(s->w, packet, (size_t)len, s->audio_pts, s->opus_frame);
    s->audio_pts += (int64_t)s->opus_frame * 1000000 / TF_OPUS_RATE;
    return e;
}

static int setup(mix_state_t *s, char **paths)
{
    const mix_opts_t *o = s->o;
    char err[1024];
    for (int i = 0; i < s->n; i++) {
        mix_input_t *in = &s->in[i];
        in->path = paths[i];
        input_name(in->path, in->name, sizeof(in->name));
        if (tf_media_reader_open(&in->reader, in->path, err, sizeof(err)) < 0) {
            fprintf(stderr, "tafel mix: %s\n", err);
            return -1;
        }
    }
    const tf_tier_t *t = s->tier;
    if (tf_compositor_create(&s->comp, t->width, t->height, o->cpu_mask) < 0 ||
        tf_compositor_set_layout(s->comp, o->layout, s->n) < 0 ||
        !(s->canvas = tf_frame_alloc(t->width, t->height))) {
        fprintf(stderr, "tafel mix: cannot set up the compositor\n");
        return -1;
    }
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, t->width, t->height,
                           o->bitrate_kbps ? o->bitrate_kbps : t->video_kbps);
    vc.fps_num = t->fps;
    vc.fps_den = 1;
    vc.intra_refresh = t->intra_refresh;
    if (o->preset)
        vc.preset = o->preset;
    if (tf_venc_create(&s->venc, &vc) < 0) {
        fprintf(stderr, "tafel mix: cannot open the H.264 encoder (preset '%s'?)\n",
                vc.preset ? vc.preset : "veryfast");
        return -1;
    }
    tf_opus_enc_config_t ac;
    tf_opus_enc_config_default(&ac);
    ac.bitrate_bps = t->opus_bps;
    ac.frame_ms = t->opus_frame_ms;
    tf_amix_config_t mc = {.max_speakers = o->speakers};
    if (tf_opus_enc_create(&s->aenc, &ac) < 0 || tf_amix_create(&s->amix, &mc) < 0) {
        fprintf(stderr, "tafel mix: cannot set up the audio path\n");
        return -1;
    }
    for (int i = 0; i < s->n; i++)
        tf_amix_add(s->amix, i);
    s->opus_frame = tf_opus_enc_frame_samples(s->aenc);
    s->abuf = calloc((size_t)s->opus_frame + TF_AMIX_FRAME, sizeof(float));
    if (!s->abuf)
        return -1;
    size_t hsize = 0;
    const uint8_t *headers = tf_venc_headers(s->venc, &hsize);
    tf_media_writer_config_t wc = {
        .width = t->width, .height = t->height, .fps_num = t->fps, .fps_den = 1,
        .h264_headers = headers, .h264_headers_size = hsize,
        .audio_channels = 1, .opus_preskip = 312,
    };
    if (tf_media_writer_open(&s->w, o->out, &wc, err, sizeof(err)) < 0) {
        fprintf(stderr, "tafel mix: %s\n", err);
        return -1;
    }
    return 0;
}

static void teardown(mix_state_t *s)
{
    for (int i = 0; i < s->n; i++)
        tf_media_reader_close(&s->in[i].reader);
    tf_compositor_destroy(&s->comp);
    tf_frame_unref(&s->canvas);
    tf_venc_destroy(&s->venc);
    tf_opus_enc_destroy(&s->aenc);
    tf_amix_destroy(&s->amix);
    tf_media_writer_close(&s->w);
    free(s->abuf);
}

static void progress(const mix_state_t *s, double done_s, double total_s, double t0, int final)
{
    double wall = now_s() - t0;
    double kbps = done_s > 0 ? (double)(s->video_bytes + s->audio_bytes) * 8 / 1000 / done_s : 0;
    int width = 30, filled = total_s > 0 ? (int)(width * done_s / total_s) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\rmix: [%s] %6.1f / %.1f s  %5.0f kbit/s  %4.1fx real time%s", bar, done_s,
            total_s, kbps, wall > 0 ? done_s / wall : 0.0, final ? "\n" : "");
    fflush(stderr);
}

int tf_cmd_mix(int argc, char **argv)
{
    mix_opts_t o;
    int first = 0;
    int rc = parse_opts(argc, argv, &o, &first);
    if (rc)
        return rc == 1 ? 0 : rc;
    mix_state_t s = {.o = &o, .tier = tf_tier_get(o.tier), .n = argc - first};
    if (!o.layout_set)
        o.layout = s.tier->grid_layout;
    int show = !o.quiet && isatty(STDERR_FILENO);
    rc = 1;
    if (setup(&s, argv + first) < 0)
        goto out;

    double total_s = o.duration_s;
    if (total_s <= 0) {
        for (int i = 0; i < s.n; i++) {
            double d = (double)tf_media_reader_duration_us(s.in[i].reader) / 1e6;
            total_s = d > total_s ? d : total_s;
        }
    }
    if (total_s <= 0) {
        fprintf(stderr, "tafel mix: input durations unknown; give --duration\n");
        goto out;
    }
    int64_t ticks = (int64_t)(total_s * 50.0 + 0.5); /* 20 ms audio ticks */
    int64_t frames = 0, next_video_us = 0;
    double t0 = now_s(), last_shown = 0;
    for (int64_t k = 0; k < ticks; k++) {
        int64_t t_us = k * 20000;
        while (next_video_us <= t_us) {
            if (video_tick(&s, next_video_us) < 0)
                goto out;
            frames++;
            next_video_us = frames * 1000000 / s.tier->fps;
        }
        if (audio_tick(&s) < 0)
            goto out;
        if (show && now_s() - last_shown > 0.25) {
            progress(&s, (double)(k + 1) / 50.0, total_s, t0, 0);
            last_shown = now_s();
        }
    }
    if (tf_media_writer_close(&s.w) < 0) {
        fprintf(stderr, "tafel mix: writing %s failed\n", o.out);
        goto out;
    }
    if (show)
        progress(&s, total_s, total_s, t0, 1);
    if (!o.quiet)
        fprintf(stderr,
                "mix: wrote %s: %d inputs, %s layout, %dx%d @ %d fps, %.1f s, %llu video frames, "
                "video %.0f kbit/s, audio %.0f kbit/s\n",
                o.out, s.n, tf_layout_kind_name(o.layout), s.tier->width, s.tier->height,
                s.tier->fps, total_s, (unsigned long long)s.video_frames,
                (double)s.video_bytes * 8 / 1000 / total_s,
                (double)s.audio_bytes * 8 / 1000 / total_s);
    rc = 0;
out:
    teardown(&s);
    return rc;
}
