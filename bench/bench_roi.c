/* bench_roi.c — "bits where they matter": the active speaker's tile quality at equal bitrate with
 * and without per-macroblock quantizer offsets (mixer/roi.h), on a 3x3 grid at 640x360 where one
 * tile speaks (moves), two move a little and six are still. Same encoder, same frames, one run.
 * Prints Markdown. Not a speed benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_frames.h"
#include "codec/video.h"
#include "mixer/compositor.h"
#include "mixer/roi.h"

#define W 640
#define H 360
#define N 9
#define FPS 15

typedef struct result {
    double kbps, speaker, moving, still;
} result_t;

static int run(int roi, int kbps, int frames, result_t *res)
{
    tf_compositor_t *c = NULL;
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    tf_frame_t *src[N] = {0}, *canvas = tf_frame_alloc(W, H);
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, W, H, kbps);
    vc.fps_num = FPS;
    vc.fps_den = 1;
    if (!canvas || tf_compositor_create(&c, W, H, ~0u) < 0 ||
        tf_compositor_set_layout(c, TF_LAYOUT_GRID, N) < 0 || tf_venc_create(&enc, &vc) < 0 ||
        tf_vdec_create(&dec, TF_VCODEC_H264) < 0)
        return -1;
    for (int i = 0; i < N; i++) {
        src[i] = tf_frame_alloc(W, H);
        bench_draw_textured(src[i], i, 0);
    }
    int mb_w = (W + 15) / 16, mb_h = (H + 15) / 16;
    float *q = calloc((size_t)(mb_w * mb_h), sizeof(float));
    tf_roi_class_t cls[N];
    for (int i = 0; i < N; i++)
        cls[i] = i == 0 ? TF_ROI_SPEAKER : i < 3 ? TF_ROI_MOVING : TF_ROI_STILL;
    tf_roi_fill(q, mb_w, mb_h, tf_compositor_layout(c), cls);
    if (roi)
        tf_venc_set_quant_offsets(enc, q, mb_w * mb_h);
    const tf_layout_t *lay = tf_compositor_layout(c);
    double bytes = 0, sp = 0, mv = 0, st = 0;
    int measured = 0;
    for (int f = 0; f < frames; f++) {
        bench_draw_textured(src[0], 0, f);      /* the speaker moves every frame */
        if (f % 3 == 0) {        /* two others move a little */
            bench_draw_textured(src[1], 1, f / 3);
            bench_draw_textured(src[2], 2, f / 3);
        }
        for (int i = 0; i < N; i++)
            tf_compositor_set_source(c, i, src[i], NULL);
        tf_compositor_render(c, canvas);
        canvas->pts_us = (int64_t)f * 1000000 / FPS;
        tf_venc_packet_t pkt;
        if (tf_venc_encode(enc, canvas, f == 0, &pkt) < 0)
            return -1;
        bytes += (double)pkt.size;
        tf_frame_t *out = NULL;
        if (pkt.size && tf_vdec_decode(dec, pkt.data, pkt.size, canvas->pts_us, &out) == 0 && out &&
            f >= FPS) { /* skip the first second (rate control settling) */
            sp += bench_psnr_rect(canvas, out, lay->tile[0]);
            mv += (bench_psnr_rect(canvas, out, lay->tile[1]) + bench_psnr_rect(canvas, out, lay->tile[2])) / 2;
            double s = 0;
            for (int i = 3; i < N; i++)
                s += bench_psnr_rect(canvas, out, lay->tile[i]);
            st += s / (N - 3);
            measured++;
        }
        tf_frame_unref(&out);
    }
    res->kbps = bytes * 8 / 1000 / ((double)frames / FPS);
    res->speaker = sp / measured;
    res->moving = mv / measured;
    res->still = st / measured;
    for (int i = 0; i < N; i++)
        tf_frame_unref(&src[i]);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&c);
    tf_venc_destroy(&enc);
    tf_vdec_destroy(&dec);
    free(q);
    return 0;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    int frames = quick ? 45 : 150;
    printf("### Quantizer offsets: the speaker's tile at equal bitrate\n\n");
    printf("3x3 grid at %dx%d, %d fps, %d frames; tile 0 speaks (moves every frame), tiles 1-2 "
           "move every third frame, tiles 3-8 are still. Y-PSNR of the decoded mix against the "
           "composed canvas, after the first second.\n\n",
           W, H, FPS, frames);
    printf("| target kbit/s | offsets | actual kbit/s | speaker tile dB | moving tiles dB | still "
           "tiles dB | speaker gain dB |\n|---|---|--:|--:|--:|--:|--:|\n");
    int rates[] = {200, 400};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        result_t off, on;
        if (run(0, rates[i], frames, &off) < 0 || run(1, rates[i], frames, &on) < 0) {
            fprintf(stderr, "bench_roi: encoder set-up failed\n");
            return 1;
        }
        printf("| %d | off | %.0f | %.2f | %.2f | %.2f | |\n", rates[i], off.kbps, off.speaker,
               off.moving, off.still);
        printf("| %d | on | %.0f | %.2f | %.2f | %.2f | **%+.2f** |\n", rates[i], on.kbps,
               on.speaker, on.moving, on.still, on.speaker - off.speaker);
    }
    return 0;
}
