/* test_load_stamp.c — bench/load/stamp.c, the load generator's frame barcode and audio marker:
 * codeword round trip and rejection of damaged codewords; a stamped sender picture survives the
 * real path of a 30-participant room (x264 at a pupil's uplink rate and size — tafel-load's
 * 320x180 and 160x90 clips — libavcodec decode, the
 * compositor's downscale into a 30-tile grid at the low and medium tier, then the tier's own
 * H.264 encode and decode) and is read back from every tile; the tone marker is found in a mix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench/load/clip.h"
#include "bench/load/http_msg.h"
#include "bench/load/stamp.h"
#include "tests/unit/tone_meter.h"
#include "codec/video.h"
#include "mixer/compositor.h"

static void test_codeword(void **state)
{
    (void)state;
    for (unsigned slot = 0; slot <= TF_STAMP_MAX_SLOT; slot += 7) {
        for (unsigned frame = 0; frame <= TF_STAMP_MAX_FRAME; frame += 13) {
            uint32_t bits = tf_stamp_encode(slot, frame);
            unsigned s = 9999, f = 9999;
            assert_int_equal(tf_stamp_decode(bits, &s, &f), 0);
            assert_int_equal(s, slot);
            assert_int_equal(f, frame);
            /* every single-bit error is caught (CRC-8 or the fixed bits) */
            for (int b = 0; b < 32; b++)
                assert_int_equal(tf_stamp_decode(bits ^ (1u << b), &s, &f), -EBADMSG);
        }
    }
}

/* Encodes and decodes one picture with x264 + libavcodec at the given rate; returns the
 * decoded picture (the caller unrefs it). Repeats the frame so rate control settles. */
static tf_frame_t *through_h264(const tf_frame_t *in, int kbps)
{
    tf_venc_config_t vc;
    tf_venc_config_default(&vc, TF_VCODEC_H264, in->width, in->height, kbps);
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_venc_create(&enc, &vc), 0);
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    tf_frame_t *out = NULL;
    for (int k = 0; k < 8; k++) {
        tf_venc_packet_t au;
        assert_int_equal(tf_venc_encode(enc, in, k == 0, &au), 0);
        if (au.size == 0)
            continue;
        tf_frame_t *f = NULL;
        assert_int_equal(tf_vdec_decode(dec, au.data, au.size, k, &f), 0);
        if (f) {
            tf_frame_unref(&out);
            out = f;
        }
    }
    assert_non_null(out);
    tf_venc_destroy(&enc);
    tf_vdec_destroy(&dec);
    return out;
}

/* 30 senders of w x h at up_kbps, composited into a grid on canvas_w x canvas_h, the tier's
 * encoder at tier_kbps: every tile's stamp reads back. */
static void composite_and_read(int w, int h, int up_kbps, int canvas_w, int canvas_h, int tier_kbps)
{
    enum { N = 30 };
    tf_compositor_t *c = NULL;
    assert_int_equal(tf_compositor_create(&c, canvas_w, canvas_h, ~0u), 0);
    assert_int_equal(tf_compositor_set_layout(c, TF_LAYOUT_GRID, N), 0);
    for (int i = 0; i < N; i++) {
        tf_frame_t *pic = tf_frame_alloc(w, h);
        assert_non_null(pic);
        tf_stamp_draw(pic, (unsigned)(100 + i), (unsigned)(7 * i + 3));
        tf_frame_t *sent = through_h264(pic, up_kbps); /* the pupil's uplink */
        assert_int_equal(tf_compositor_set_source(c, i, sent, "x"), 0);
        tf_frame_unref(&sent);
        tf_frame_unref(&pic);
    }
    tf_frame_t *canvas = tf_frame_alloc(canvas_w, canvas_h);
    assert_int_equal(tf_compositor_render(c, canvas), 0);
    tf_frame_t *seen = through_h264(canvas, tier_kbps); /* the tier's encoder */
    const tf_layout_t *l = tf_compositor_layout(c);
    int read = 0;
    for (int i = 0; i < N; i++) {
        unsigned slot = 0, frame = 0;
        int e = tf_stamp_read(seen, &l->tile[i], &slot, &frame);
        if (e == 0) {
            assert_int_equal(slot, 100 + i);
            assert_int_equal(frame, 7 * i + 3);
            read++;
        }
    }
    print_message("%dx%d senders at %d kbit/s, %dx%d at %d kbit/s: tile %dx%d, %d of %d stamps "
                  "read\n",
                  w, h, up_kbps, canvas_w, canvas_h, tier_kbps, l->tile[0].w, l->tile[0].h, read,
                  N);
    assert_int_equal(read, N);
    /* the background between tiles carries no stamp */
    tf_rect_t bg = {0, 0, 16, 8};
    unsigned s, f;
    tf_frame_fill(canvas, TF_COMPOSITOR_BG_Y, TF_COMPOSITOR_BG_U, TF_COMPOSITOR_BG_V);
    assert_int_equal(tf_stamp_read(canvas, &bg, &s, &f), -ENOENT);
    tf_frame_unref(&seen);
    tf_frame_unref(&canvas);
    tf_compositor_destroy(&c);
}

static void test_grid_low(void **state)
{
    (void)state;
    composite_and_read(320, 180, 150, 320, 180, 120);
}

static void test_grid_medium(void **state)
{
    (void)state;
    composite_and_read(320, 180, 150, 640, 360, 350);
}

/* tafel-load's small uplink clip (what a 30-tile grid's `uplink` message asks for) */
static void test_grid_small_uplink(void **state)
{
    (void)state;
    const tf_clip_size_t *small = &tf_clip_sizes[TF_CLIP_N_SIZES - 1];
    assert_int_equal(small->w, 160);
    assert_int_equal(small->h, 90);
    composite_and_read(small->w, small->h, small->kbps, 320, 180, 120);
    composite_and_read(small->w, small->h, small->kbps, 640, 360, 350);
}

/* the room event a sender switches clips on (server/room_rate.c's text) */
static void test_uplink_event(void **state)
{
    (void)state;
    tf_load_event_t ev;
    const char *ok = "{\"type\": \"uplink\", \"width\": 208, \"height\": 117, \"fps\": 15, "
                     "\"kbps\": 90}";
    assert_int_equal(tf_load_event_parse(ok, strlen(ok), &ev), 0);
    assert_int_equal(ev.kind, TF_LOAD_EV_UPLINK);
    assert_int_equal(ev.width, 208);
    assert_int_equal(ev.height, 117);
    assert_int_equal(ev.kbps, 90);
    assert_int_equal(tf_clip_size_for(ev.width, ev.height, ev.kbps), 1);
    const char *no_kbps = "{\"type\": \"uplink\", \"width\": 208, \"height\": 117}";
    assert_int_equal(tf_load_event_parse(no_kbps, strlen(no_kbps), &ev), -EPROTO);
    const char *zero = "{\"type\": \"uplink\", \"width\": 0, \"height\": 117, \"kbps\": 90}";
    assert_int_equal(tf_load_event_parse(zero, strlen(zero), &ev), -EPROTO);
}

static void test_clip_size_for(void **state)
{
    (void)state;
    assert_int_equal(tf_clip_size_for(640, 360, 500), 0);
    assert_int_equal(tf_clip_size_for(320, 180, 150), 0);
    assert_int_equal(tf_clip_size_for(213, 120, 150), 1); /* too narrow for 320x180 */
    assert_int_equal(tf_clip_size_for(320, 180, 100), 1); /* too few bits for it */
    assert_int_equal(tf_clip_size_for(80, 45, 30), 1);    /* nothing fits: the smallest */
}

static void test_read_rejects(void **state)
{
    (void)state;
    tf_frame_t *f = tf_frame_alloc(64, 36);
    tf_frame_fill(f, 128, 128, 128);
    unsigned s, fr;
    tf_rect_t all = {0, 0, 64, 36}, outside = {32, 0, 64, 36}, tiny = {0, 0, 8, 4};
    assert_int_equal(tf_stamp_read(f, &all, &s, &fr), -ENOENT);
    assert_int_equal(tf_stamp_read(f, &outside, &s, &fr), -EINVAL);
    assert_int_equal(tf_stamp_read(f, &tiny, &s, &fr), -EINVAL);
    tf_stamp_draw(f, 5, 6);
    assert_int_equal(tf_stamp_read(f, &all, &s, &fr), 0);
    assert_int_equal(s, 5);
    assert_int_equal(fr, 6);
    tf_frame_unref(&f);
}

static void test_tone(void **state)
{
    (void)state;
    float pcm[TF_TONE_FRAME];
    /* three slots' tones mixed; a fourth slot is absent */
    for (int i = 0; i < TF_TONE_FRAME; i++) {
        double t = i / 48000.0;
        pcm[i] = (float)(0.2 * sin(2 * M_PI * tf_tone_hz(3) * t + 0.3) +
                         0.1 * sin(2 * M_PI * tf_tone_hz(4) * t) +
                         0.05 * sin(2 * M_PI * tf_tone_hz(29) * t + 1.0));
    }
    assert_true(fabs(tone_meter_amplitude(pcm, TF_TONE_FRAME, tf_tone_hz(3)) - 0.2) < 0.01);
    assert_true(fabs(tone_meter_amplitude(pcm, TF_TONE_FRAME, tf_tone_hz(4)) - 0.1) < 0.01);
    assert_true(fabs(tone_meter_amplitude(pcm, TF_TONE_FRAME, tf_tone_hz(29)) - 0.05) < 0.01);
    assert_true(tone_meter_amplitude(pcm, TF_TONE_FRAME, tf_tone_hz(10)) < 0.01);
    assert_true(tf_tone_hz(0) != tf_tone_hz(29));
    assert_true(tf_tone_hz(0) == tf_tone_hz(30));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codeword),          cmocka_unit_test(test_read_rejects),
        cmocka_unit_test(test_grid_low),          cmocka_unit_test(test_grid_medium),
        cmocka_unit_test(test_grid_small_uplink), cmocka_unit_test(test_clip_size_for),
        cmocka_unit_test(test_uplink_event),      cmocka_unit_test(test_tone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
