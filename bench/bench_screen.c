/* bench_screen.c — a shared screen in the presentation layout: Y-PSNR of the screen tile (text)
 * at equal bitrate with the camera settings of a tier (its frame rate, no quantizer offsets)
 * against the screen settings of the room engine (TF_ROOM_SCREEN_FPS, the screen tile with the
 * speaker's offset and the camera strip with the still one; server/room_video.c), and each of
 * the two changes alone. Same encoder, same content timeline, one run. Prints Markdown. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_frames.h"
#include "codec/video.h"
#include "mixer/compositor.h"
#include "mixer/roi.h"
#include "mixer/tier.h"
#include "server/room.h"

#define STRIP 3
#define SRC_W 1280
#define SRC_H 720

static int seconds = 10; /* per run; --quick: 3 */

static uint32_t rng(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* A slide: dark 5x7 "glyphs" (random but fixed per character code, drawn 2x) in lines on white,
 * a 12x28 px cell on a 1280x720 screen (about a 16 px font). Slide `slide` has its own text;
 * `lines` of its lines are written so far (text appears line by line, as in a lesson). */
static void draw_screen(tf_frame_t *f, int slide, int lines)
{
    static uint8_t glyph[64][7];
    static int ready;
    if (!ready) {
        uint32_t s = 0x5eed;
        for (int g = 0; g < 64; g++)
            for (int r = 0; r < 7; r++)
                glyph[g][r] = (uint8_t)(rng(&s) & 0x1f);
        ready = 1;
    }
    for (int y = 0; y < f->height; y++)
        memset(f->plane[0] + y * f->stride[0], 235, (size_t)f->width);
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < f->height / 2; y++)
            memset(f->plane[p] + y * f->stride[p], 128, (size_t)f->width / 2);
    uint32_t s = 0xc0ffee + (uint32_t)slide * 7919u;
    for (int line = 0; line < lines && 40 + line * 28 + 20 < f->height; line++) {
        int len = 40 + (int)(rng(&s) % 55);
        for (int c = 0; c < len && 60 + c * 12 + 12 < f->width; c++) {
            int g = (int)(rng(&s) % 64);
            if (g < 10)
                continue; /* a space */
            int x0 = 60 + c * 12, y0 = 40 + line * 28;
            for (int r = 0; r < 7; r++)
                for (int b = 0; b < 5; b++)
                    if (glyph[g][r] >> b & 1)
                        for (int dy = 0; dy < 2; dy++)
                            for (int dx = 0; dx < 2; dx++)
                                f->plane[0][(y0 + r * 2 + dy) * f->stride[0] + x0 + b * 2 + dx] =
                                    30;
        }
    }
}

/* A camera: texture, a moving box (as bench_roi.c) and sensor noise, which costs bits as a
 * real webcam's does. */
static void draw_camera(tf_frame_t *f, int src, int t)
{
    uint32_t s = 0x9e3779b9u ^ (uint32_t)(src * 131 + t * 7);
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            int v =
                60 + src * 15 + ((x * 7 + y * 3 + ((x ^ y) & 31)) & 63) + (int)(rng(&s) % 13) - 6;
            f->plane[0][y * f->stride[0] + x] = (uint8_t)v;
        }
    bench_chroma_and_box(f, src, t);
}

typedef struct result {
    double kbps, screen, fresh, strip;
} result_t;

#define SLIDE_US 2000000 /* a new slide every 2 s, a line written every 0.25 s */

static int run(const tf_tier_t *t, int kbps, int fps, int offsets, result_t *res)
{
    tf_compositor_t *c = NULL;
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    tf_frame_t *canvas = tf_frame_alloc(t->width, t->height), *src[1 + STRIP] = {0};
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, t->width, t->height, kbps);
    vc.fps_num = fps;
    vc.fps_den = 1;
    vc.intra_refresh = t->intra_refresh;
    vc.max_slice_bytes = 1100; /* as the room (one RTP packet per slice) */
    if (!canvas || tf_compositor_create(&c, t->width, t->height, ~0u) < 0 ||
        tf_compositor_set_layout(c, TF_LAYOUT_PRESENTATION, 1 + STRIP) < 0 ||
        tf_venc_create(&enc, &vc) < 0 || tf_vdec_create(&dec, TF_VCODEC_H264) < 0)
        return -1;
    for (int i = 0; i <= STRIP; i++)
        if (!(src[i] = tf_frame_alloc(i ? 640 : SRC_W, i ? 360 : SRC_H)))
            return -1;
    const tf_layout_t *lay = tf_compositor_layout(c);
    int mb_w = (t->width + 15) / 16, mb_h = (t->height + 15) / 16;
    float *q = calloc((size_t)(mb_w * mb_h), sizeof(float));
    tf_roi_class_t cls[1 + STRIP] = {TF_ROI_SPEAKER, TF_ROI_STILL, TF_ROI_STILL, TF_ROI_STILL};
    tf_roi_fill(q, mb_w, mb_h, lay, cls);
    if (offsets)
        tf_venc_set_quant_offsets(enc, q, mb_w * mb_h);
    double bytes = 0, scr = 0, strip = 0, fresh = 0;
    int measured = 0, n_fresh = 0, frames = seconds * fps;
    for (int f = 0; f < frames; f++) {
        int64_t us = (int64_t)f * 1000000 / fps;
        draw_screen(src[0], (int)(us / SLIDE_US), 4 + (int)(us % SLIDE_US / 250000));
        for (int i = 1; i <= STRIP; i++)
            draw_camera(src[i], i, (int)(us * 15 / 1000000)); /* cameras move in real time */
        for (int i = 0; i <= STRIP; i++)
            tf_compositor_set_source(c, i, src[i], NULL);
        tf_compositor_render(c, canvas);
        canvas->pts_us = us;
        tf_venc_packet_t pkt;
        if (tf_venc_encode(enc, canvas, f == 0, &pkt) < 0)
            return -1;
        bytes += (double)pkt.size;
        tf_frame_t *out = NULL;
        if (pkt.size && tf_vdec_decode(dec, pkt.data, pkt.size, us, &out) == 0 && out &&
            us >= 1000000) { /* after the first second (rate control settling) */
            double p = bench_psnr_rect(canvas, out, lay->tile[0]);
            scr += p;
            if (us % SLIDE_US < 500000) { /* the first half second of a new slide */
                fresh += p;
                n_fresh++;
            }
            double s = 0;
            for (int i = 1; i <= STRIP; i++)
                s += bench_psnr_rect(canvas, out, lay->tile[i]);
            strip += s / STRIP;
            measured++;
        }
        tf_frame_unref(&out);
    }
    res->kbps = bytes * 8 / 1000 / seconds;
    res->screen = scr / measured;
    res->fresh = fresh / n_fresh;
    res->strip = strip / measured;
    for (int i = 0; i <= STRIP; i++)
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
    if (argc > 1 && !strcmp(argv[1], "--quick"))
        seconds = 3;
    printf("### A shared screen: text at equal bitrate (`bench/bench_screen`)\n\n");
    printf("Presentation layout: a 1280x720 slide of ~16 px text (a new slide every 2 s, written "
           "a line every 0.25 s) as the large tile, %d moving, noisy cameras in the strip; %d s "
           "per run. Y-PSNR of the screen tile in the decoded mix against the composed canvas, "
           "after the first second: over all frames, and over the first 0.5 s of each new slide "
           "(how soon new text is legible). Camera settings: the tier's frame rate, no "
           "quantizer offsets; screen settings (the room engine's): %d fps, the screen tile at "
           "the speaker offset (%+.0f), the strip at the still one (%+.0f).\n\n",
           STRIP, seconds, TF_ROOM_SCREEN_FPS, TF_ROI_SPEAKER_QP, TF_ROI_STILL_QP);
    printf("| canvas | target kbit/s | settings | fps | actual kbit/s | screen dB | new slide dB "
           "| strip dB | screen gain dB | new slide gain dB |\n"
           "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|\n");
    const struct {
        tf_tier_id_t tier;
        int kbps;
    } runs[] = {
        {TF_TIER_MEDIUM, 50}, {TF_TIER_MEDIUM, 150}, {TF_TIER_HIGH, 150}, {TF_TIER_HIGH, 400}};
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
        const tf_tier_t *t = tf_tier_get(runs[i].tier);
        int sfps = t->fps > TF_ROOM_SCREEN_FPS ? TF_ROOM_SCREEN_FPS : t->fps;
        struct {
            const char *name;
            int fps, offsets;
        } cfg[] = {{"camera", t->fps, 0},
                   {"lower fps only", sfps, 0},
                   {"offsets only", t->fps, 1},
                   {"**screen**", sfps, 1}};
        result_t base = {0};
        for (size_t k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++) {
            result_t r;
            if (run(t, runs[i].kbps, cfg[k].fps, cfg[k].offsets, &r) < 0) {
                fprintf(stderr, "bench_screen: encoder set-up failed\n");
                return 1;
            }
            if (k == 0)
                base = r;
            const char *b = k == 3 ? "**" : "";
            printf("| %s %dx%d | %d | %s | %d | %.0f | %.2f | %.2f | %.2f | %s%+.2f%s | %s%+.2f%s "
                   "|\n",
                   t->name, t->width, t->height, runs[i].kbps, cfg[k].name, cfg[k].fps, r.kbps,
                   r.screen, r.fresh, r.strip, b, r.screen - base.screen, b, b,
                   r.fresh - base.fresh, b);
            fflush(stdout);
        }
    }
    return 0;
}
