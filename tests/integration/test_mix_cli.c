/* test_mix_cli.c — end-to-end test of `tafel mix`: three generated clips of distinct solid
 * colours and tones (FFmpeg's lavfi test sources, three different codecs and containers) are
 * mixed in each layout; the decoded output must show each colour inside its tile rectangle and
 * carry the three tones. Also: ffprobe accepts the file, and bad inputs fail cleanly. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "codec/media_file.h"
#include "mixer/layout.h"
#include "tests/integration/run_helper.h"
#include "tests/unit/tone_meter.h"

static char work[1024];

static const struct {
    const char *file, *colour, *vcodec, *acodec;
    int w, h;
    double tone;
    int y, u, v; /* BT.601 limited range */
} clips[3] = {
    {"red.mp4", "red", "libx264", "aac", 640, 360, 440, 81, 90, 240},
    {"green.webm", "0x00FF00", "libvpx", "libopus", 320, 240, 660, 145, 54, 34},
    {"blue.mkv", "blue", "mpeg4", "pcm_s16le", 1280, 720, 880, 41, 240, 110},
};

static int setup_clips(void **state)
{
    mkdir(work, 0755);
    for (int i = 0; i < 3; i++) {
        int rc = run("ffmpeg -v error -y -f lavfi -i color=c=%s:s=%dx%d:r=15:d=3 -f lavfi "
                     "-i sine=f=%.0f:sample_rate=48000:d=3 -c:v %s -pix_fmt yuv420p -c:a %s "
                     "-shortest %s/%s",
                     clips[i].colour, clips[i].w, clips[i].h, clips[i].tone, clips[i].vcodec,
                     clips[i].acodec, work, clips[i].file);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Mean of a plane over the central half of a rectangle. */
static double mean_rect(const tf_frame_t *f, int p, tf_rect_t r)
{
    int sh = p ? 1 : 0;
    int x0 = (r.x + r.w / 4) >> sh, x1 = (r.x + 3 * r.w / 4) >> sh;
    int y0 = (r.y + r.h / 4) >> sh, y1 = (r.y + 3 * r.h / 4) >> sh;
    double sum = 0;
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++, n++)
            sum += f->plane[p][(size_t)y * f->stride[p] + x];
    return n ? sum / n : -1;
}

static double goertzel_db(const float *x, int n, double hz)
{
    return 20 * log10(tone_meter_amplitude(x, n, hz) + 1e-12);
}

static void check_mix(const char *layout, tf_layout_kind_t kind)
{
    char out[1200];
    snprintf(out, sizeof(out), "%s/mix-%s.mkv", work, layout);
    assert_int_equal(run("%s mix -q %s/%s %s/%s %s/%s --layout %s --tier medium -o %s", TAFEL_BIN,
                         work, clips[0].file, work, clips[1].file, work, clips[2].file, layout,
                         out),
                     0);
    assert_int_equal(run("ffprobe -v error -select_streams v:0 -show_entries stream=profile "
                         "-of csv=p=0 %s | grep -qx 'Constrained Baseline'",
                         out),
                     0);

    tf_media_reader_t *r = NULL;
    char err[1024];
    assert_int_equal(tf_media_reader_open(&r, out, err, sizeof(err)), 0);
    tf_layout_t lay;
    assert_int_equal(tf_layout_compute(&lay, kind, 640, 360, 3), 0);

    tf_frame_t *f = NULL;
    assert_int_equal(tf_media_reader_video_at(r, 2000000, &f), 0);
    assert_non_null(f);
    assert_int_equal(f->width, 640);
    assert_int_equal(f->height, 360);
    for (int i = 0; i < 3; i++) {
        if (lay.tile[i].w == 0)
            continue;
        double y = mean_rect(f, 0, lay.tile[i]), u = mean_rect(f, 1, lay.tile[i]),
               v = mean_rect(f, 2, lay.tile[i]);
        printf("  %-12s tile %d (%d,%d %dx%d): Y %.1f U %.1f V %.1f (want %d %d %d)\n", layout,
               i, lay.tile[i].x, lay.tile[i].y, lay.tile[i].w, lay.tile[i].h, y, u, v, clips[i].y,
               clips[i].u, clips[i].v);
        assert_true(fabs(y - clips[i].y) < 10);
        assert_true(fabs(u - clips[i].u) < 10);
        assert_true(fabs(v - clips[i].v) < 10);
    }
    tf_frame_unref(&f);

    /* One second of sound from the middle of the output. */
    static float pcm[48000 * 2];
    assert_true(tf_media_reader_audio(r, pcm, 48000 * 2) > 48000);
    const float *sec = pcm + 48000;
    double absent = goertzel_db(sec, 48000, 1234.0);
    for (int i = 0; i < 3; i++) {
        double db = goertzel_db(sec, 48000, clips[i].tone);
        printf("  %-12s tone %.0f Hz: %.1f dBFS (absent 1234 Hz: %.1f dBFS)\n", layout,
               clips[i].tone, db, absent);
        assert_true(db > -30.0);
        assert_true(db > absent + 30.0);
    }
    tf_media_reader_close(&r);
}

static void test_grid(void **state) { check_mix("grid", TF_LAYOUT_GRID); }
static void test_speaker(void **state) { check_mix("speaker", TF_LAYOUT_SPEAKER); }
static void test_presentation(void **state) { check_mix("presentation", TF_LAYOUT_PRESENTATION); }

static void test_missing_input(void **state)
{
    assert_int_not_equal(run("%s mix -q %s/does-not-exist.mkv -o %s/x.mkv 2>%s/err.txt",
                             TAFEL_BIN, work, work, work),
                         0);
    assert_int_equal(run("grep -q 'does-not-exist.mkv' %s/err.txt", work), 0);
}

static void test_corrupt_input(void **state)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/garbage.mp4", work);
    FILE *g = fopen(path, "wb");
    assert_non_null(g);
    unsigned seed = 12345;
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        fputc((int)(seed >> 16) & 0xff, g);
    }
    fclose(g);
    int rc = run("%s mix -q %s %s/%s -o %s/y.mkv 2>%s/err2.txt", TAFEL_BIN, path, work,
                 clips[0].file, work, work);
    assert_true(rc == 1); /* a clean failure, not a signal */
    assert_int_equal(run("grep -q 'garbage.mp4' %s/err2.txt", work), 0);
}

int main(int argc, char **argv)
{
    snprintf(work, sizeof(work), "%s", argc > 1 ? argv[1] : "mix-cli.work");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),          cmocka_unit_test(test_speaker),
        cmocka_unit_test(test_presentation),  cmocka_unit_test(test_missing_input),
        cmocka_unit_test(test_corrupt_input),
    };
    return cmocka_run_group_tests(tests, setup_clips, NULL);
}
