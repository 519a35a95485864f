/* bench_tier_preset.c — which x264 preset a room's shared tier encoder should run: a
 * 30-participant grid at the medium tier (640x360, 15 fps, 400 kbit/s, zerolatency, baseline)
 * encoded with each preset from the same composited frames. Prints, per preset, the encoder's
 * CPU as a ratio to veryfast (the default before this benchmark) measured in interleaved rounds
 * of one process, the bitrate reached, and the decoded Y-PSNR (FFmpeg's decoder) of the whole
 * picture and of the speaker's tile. The picture: one speaker moving every frame, nine pupils
 * moving a little every third frame, twenty still. Not a timing test: CI runs it with --quick. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench_frames.h"
#include "codec/video.h"
#include "mixer/compositor.h"

#define W 640
#define H 360
#define N 30
#define FPS 15
#define KBPS 400

static const char *const presets[] = {"veryfast", "ultrafast", "superfast", "faster"};
#define N_PRESETS ((int)(sizeof(presets) / sizeof(presets[0])))

typedef struct result {
    double cpu_s, kbps, psnr, speaker;
} result_t;

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Composites the grid's frames once, so every preset encodes the same pictures. */
static tf_frame_t **make_canvases(int frames, tf_rect_t *speaker)
{
    tf_compositor_t *c = NULL;
    tf_frame_t *src[N] = {0};
    tf_frame_t **out = calloc((size_t)frames, sizeof(*out));
    if (!out || tf_compositor_create(&c, W, H, ~0u) < 0 ||
        tf_compositor_set_layout(c, TF_LAYOUT_GRID, N) < 0)
        return NULL;
    for (int i = 0; i < N; i++) {
        if (!(src[i] = tf_frame_alloc(320, 180)))
            return NULL;
        bench_draw_textured(src[i], i % 10, i);
    }
    *speaker = tf_compositor_layout(c)->tile[0];
    for (int f = 0; f < frames; f++) {
        bench_draw_textured(src[0], 0, f);
        for (int i = 1; i <= 9 && f % 3 == 0; i++)
            bench_draw_textured(src[i], i, i + f / 3);
        for (int i = 0; i < N; i++)
            tf_compositor_set_source(c, i, src[i], NULL);
        if (!(out[f] = tf_frame_alloc(W, H)) || tf_compositor_render(c, out[f]) < 0)
            return NULL;
        out[f]->pts_us = (int64_t)f * 1000000 / FPS;
    }
    for (int i = 0; i < N; i++)
        tf_frame_unref(&src[i]);
    tf_compositor_destroy(&c);
    return out;
}

/* Encodes every canvas with one preset; with dec, also decodes and adds up the Y-PSNR. */
static int run(const char *preset, tf_frame_t **canvas, int frames, tf_rect_t speaker,
               tf_vdec_t *dec, result_t *res)
{
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, W, H, KBPS);
    vc.fps_num = FPS;
    vc.fps_den = 1;
    vc.preset = preset;
    tf_venc_t *enc = NULL;
    if (tf_venc_create(&enc, &vc) < 0)
        return -1;
    tf_rect_t all = {0, 0, W, H};
    double bytes = 0, psnr = 0, sp = 0;
    int measured = 0;
    for (int f = 0; f < frames; f++) {
        tf_venc_packet_t pkt;
        double t0 = cpu_s();
        int e = tf_venc_encode(enc, canvas[f], f == 0, &pkt);
        res->cpu_s += cpu_s() - t0;
        if (e < 0)
            return -1;
        bytes += (double)pkt.size;
        tf_frame_t *out = NULL;
        if (dec && pkt.size &&
            tf_vdec_decode(dec, pkt.data, pkt.size, canvas[f]->pts_us, &out) == 0 && out &&
            f >= FPS) { /* after the first second (rate control settling) */
            psnr += bench_psnr_rect(canvas[f], out, all);
            sp += bench_psnr_rect(canvas[f], out, speaker);
            measured++;
        }
        tf_frame_unref(&out);
    }
    tf_venc_destroy(&enc);
    if (dec) {
        res->kbps = bytes * 8 / 1000 / ((double)frames / FPS);
        res->psnr = measured ? psnr / measured : 0;
        res->speaker = measured ? sp / measured : 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    int frames = quick ? 2 * FPS : 20 * FPS, rounds = quick ? 1 : 3;
    tf_rect_t speaker;
    tf_frame_t **canvas = make_canvases(frames, &speaker);
    if (!canvas) {
        fprintf(stderr, "bench_tier_preset: cannot composite the test frames\n");
        return 1;
    }
    result_t res[N_PRESETS];
    memset(res, 0, sizeof(res));
    for (int p = 0; p < N_PRESETS; p++) { /* quality pass (its time is not counted) */
        tf_vdec_t *dec = NULL;
        if (tf_vdec_create(&dec, TF_VCODEC_H264) < 0 ||
            run(presets[p], canvas, frames, speaker, dec, &res[p]) < 0) {
            fprintf(stderr, "bench_tier_preset: encoding with %s failed\n", presets[p]);
            return 1;
        }
        res[p].cpu_s = 0;
        tf_vdec_destroy(&dec);
    }
    for (int r = 0; r < rounds; r++) /* interleaved: the machine's noise hits every preset */
        for (int p = 0; p < N_PRESETS; p++)
            if (run(presets[p], canvas, frames, speaker, NULL, &res[p]) < 0)
                return 1;
    printf("Tier encoder presets: %d-participant grid, %dx%d, %d fps, %d kbit/s target, %d s, "
           "%d interleaved rounds\n\n",
           N, W, H, FPS, KBPS, frames / FPS, rounds);
    printf("| x264 preset | encoder CPU ÷ veryfast | share of one core | kbit/s | Y-PSNR dB | "
           "speaker tile Y-PSNR dB |\n|---|---:|---:|---:|---:|---:|\n");
    for (int p = 0; p < N_PRESETS; p++)
        printf("| %s | %.2f | %.1f %% | %.0f | %.2f | %.2f |\n", presets[p],
               res[p].cpu_s / res[0].cpu_s, 100.0 * res[p].cpu_s / (rounds * (double)frames / FPS),
               res[p].kbps, res[p].psnr, res[p].speaker);
    for (int f = 0; f < frames; f++)
        tf_frame_unref(&canvas[f]);
    free(canvas);
    return 0;
}
