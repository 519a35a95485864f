/* cmd_sample.c — `tafel sample`: writes sample clips to mix (a coloured moving pattern or a
 * solid colour, a steady tone, a name), encoded with Tafel's own H.264 and Opus encoders.
 * Test media is generated, never committed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/media_file.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "server/commands.h"

/* Distinct colours (BT.601 limited range) and tones, one per sample participant. */
static const struct {
    const char *name;
    uint8_t y, u, v;
    double tone_hz;
} palette[] = {
    {"anna", 81, 90, 240, 440.0},    /* red */
    {"ben", 145, 54, 34, 660.0},     /* green */
    {"clara", 41, 240, 110, 880.0},  /* blue */
    {"deniz", 210, 16, 146, 550.0},  /* yellow */
    {"emil", 170, 166, 16, 770.0},   /* cyan */
    {"frieda", 106, 202, 222, 990.0}, /* magenta */
};
#define PALETTE_N ((int)(sizeof(palette) / sizeof(palette[0])))

static void usage(FILE *to)
{
    fprintf(to, "usage: tafel sample [options]\n"
                "\n"
                "Writes sample clips (H.264 + Opus in Matroska) named after pupils, each with its\n"
                "own colour and tone, for 'tafel mix' and the tests.\n"
                "\n"
                "options:\n"
                "  -o, --out DIR        folder for the clips (default: samples)\n"
                "  -n, --count N        number of clips, 1..%d (default 4)\n"
                "  -d, --duration S     seconds per clip (default 10)\n"
                "  -s, --size WxH       picture size (default 640x360)\n"
                "      --solid          solid colours without motion (for exact checks)\n"
                "  -h, --help           this text\n",
            PALETTE_N);
}

/* A calm moving pattern: the participant's colour with a soft diagonal gradient and a bright
 * square that travels across the picture. */
static void draw(tf_frame_t *f, int idx, int frame, int solid)
{
    tf_frame_fill(f, palette[idx].y, palette[idx].u, palette[idx].v);
    if (solid)
        return;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * f->stride[0];
        for (int x = 0; x < f->width; x++) {
            int g = palette[idx].y + ((x + y + frame * 3) % 64) - 32;
            row[x] = (uint8_t)(g < 16 ? 16 : g > 235 ? 235 : g);
        }
    }
    int box = f->height / 4 & ~1;
    int bx = (frame * 6) % (f->width - box) & ~1, by = (f->height - box) / 2 & ~1;
    for (int y = by; y < by + box; y++)
        memset(f->plane[0] + (size_t)y * f->stride[0] + bx, 235, (size_t)box);
}

static int write_clip(const char *path, int idx, int w, int h, double seconds, int solid)
{
    const int fps = 15;
    tf_venc_t *venc = NULL;
    tf_opus_enc_t *aenc = NULL;
    tf_media_writer_t *wr = NULL;
    tf_frame_t *f = tf_frame_alloc(w, h);
    float *pcm = NULL;
    char err[1024];
    int rc = -1;
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, w, h, w * h / 256);
    vc.fps_num = fps;
    vc.fps_den = 1;
    vc.intra_refresh = 0;
    tf_opus_enc_config_t ac;
    tf_opus_enc_config_default(&ac);
    ac.bitrate_bps = 32000;
    if (!f || tf_venc_create(&venc, &vc) < 0 || tf_opus_enc_create(&aenc, &ac) < 0) {
        fprintf(stderr, "tafel sample: cannot set up the encoders for %dx%d\n", w, h);
        goto out;
    }
    size_t hsize = 0;
    const uint8_t *headers = tf_venc_headers(venc, &hsize);
    tf_media_writer_config_t wc = {.width = w, .height = h, .fps_num = fps, .fps_den = 1,
                                   .h264_headers = headers, .h264_headers_size = hsize,
                                   .audio_channels = 1, .opus_preskip = 312};
    if (tf_media_writer_open(&wr, path, &wc, err, sizeof(err)) < 0) {
        fprintf(stderr, "tafel sample: %s\n", err);
        goto out;
    }
    int n_frames = (int)(seconds * fps + 0.5);
    int spf = tf_opus_enc_frame_samples(aenc);
    pcm = malloc(sizeof(float) * (size_t)spf);
    if (!pcm)
        goto out;
    int64_t sample = 0, total_samples = (int64_t)(seconds * TF_OPUS_RATE);
    for (int i = 0; i < n_frames; i++) {
        int64_t pts = (int64_t)i * 1000000 / fps;
        draw(f, idx, i, solid);
        f->pts_us = pts;
        tf_venc_packet_t pkt;
        if (tf_venc_encode(venc, f, i == 0, &pkt) < 0)
            goto out;
        if (pkt.size && tf_media_writer_video(wr, pkt.data, pkt.size, pkt.pts_us, pkt.keyframe))
            goto out;
        /* Audio up to the end of this video frame, in whole Opus frames. */
        int64_t until = (int64_t)(i + 1) * TF_OPUS_RATE / fps;
        while (sample < until && sample < total_samples) {
            for (int k = 0; k < spf; k++)
                pcm[k] = 0.25f * (float)sin(2 * M_PI * palette[idx].tone_hz *
                                            (double)(sample + k) / TF_OPUS_RATE);
            uint8_t packet[TF_OPUS_MAX_PACKET];
            int len = tf_opus_enc_encode(aenc, pcm, packet, sizeof(packet));
            if (len < 0 || tf_media_writer_audio(wr, packet, (size_t)len,
                                                 sample * 1000000 / TF_OPUS_RATE, spf) < 0)
                goto out;
            sample += spf;
        }
    }
    rc = tf_media_writer_close(&wr) < 0 ? -1 : 0;
out:
    tf_media_writer_close(&wr);
    tf_venc_destroy(&venc);
    tf_opus_enc_destroy(&aenc);
    tf_frame_unref(&f);
    free(pcm);
    return rc;
}

int tf_cmd_sample(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},  {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'}, {"size", required_argument, NULL, 's'},
        {"solid", no_argument, NULL, 'S'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = "samples";
    int count = 4, w = 640, h = 360, solid = 0, c;
    double seconds = 10;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:n:d:s:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'n':
            count = atoi(optarg);
            break;
        case 'd':
            seconds = atof(optarg);
            break;
        case 's':
            if (sscanf(optarg, "%dx%d", &w, &h) != 2)
                w = h = 0;
            break;
        case 'S':
            solid = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (count < 1 || count > PALETTE_N || seconds <= 0 || seconds > 3600 || w < 16 || h < 16 ||
        w > 1920 || h > 1080 || (w | h) & 1) {
        fprintf(stderr, "tafel sample: want 1..%d clips, 0..3600 s, an even size up to "
                        "1920x1080\n", PALETTE_N);
        return 2;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "tafel sample: cannot create folder %s: %s\n", dir, strerror(errno));
        return 1;
    }
    for (int i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.mkv", dir, palette[i].name);
        if (write_clip(path, i, w, h, seconds, solid) < 0) {
            fprintf(stderr, "tafel sample: failed writing %s\n", path);
            return 1;
        }
        printf("%s\n", path);
    }
    return 0;
}
