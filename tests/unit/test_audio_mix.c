/* test_audio_mix.c — audio_mix.c with Goertzel-measured tones; no codec, no real speech. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/audio_mix.h"
#include "tests/unit/tone_meter.h"

#define RATE 48000
#define PI 3.14159265358979323846

/* Tones are measured with tone_meter_amplitude() on 20 ms frames: their frequencies are
 * multiples of RATE / n = 50 Hz, so a pure tone lands in one bin. */

static double db(double ratio)
{
    return 20.0 * log10(ratio > 1e-12 ? ratio : 1e-12);
}

/* One tick of a continuous tone. */
static void tone(float *buf, double f, double amp, long tick)
{
    for (int s = 0; s < TF_AMIX_FRAME; s++) {
        long n = tick * TF_AMIX_FRAME + s;
        buf[s] = (float)(amp * sin(2.0 * PI * f * (double)n / RATE));
    }
}

typedef struct voice {
    int id;
    double freq, amp;
    int level; /* RFC 6464 level to signal, 1: none */
} voice_t;

/* Puts one tick of every voice with amp > 0 and runs the mixer. */
static void tick(tf_amix_t *m, const voice_t *v, int nv, long t)
{
    float pcm[TF_AMIX_FRAME];
    for (int i = 0; i < nv; i++) {
        if (v[i].amp <= 0)
            continue;
        tone(pcm, v[i].freq, v[i].amp, t);
        assert_int_equal(tf_amix_put(m, v[i].id, pcm, v[i].level), 0);
    }
    assert_int_equal(tf_amix_run(m), 0);
}

static tf_amix_t *make_mixer(int k)
{
    tf_amix_config_t cfg = {.max_speakers = k};
    tf_amix_t *m = NULL;
    assert_int_equal(tf_amix_create(&m, &cfg), 0);
    assert_non_null(m);
    return m;
}

/* Four speakers, K = 4: each hears the other three and not itself. */
static void test_mix_minus(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(4);
    voice_t v[4] = {{0, 300, 0.1, 1}, {1, 500, 0.1, 1}, {2, 700, 0.1, 1}, {3, 900, 0.1, 1}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(tf_amix_add(m, i), 0);
    for (long t = 0; t < 10; t++) {
        tick(m, v, 4, t);
        assert_true(tf_amix_mix_count(m) <= 5);
    }
    assert_int_equal(tf_amix_mix_count(m), 5);
    int seen_ids = 0;
    for (int i = 0; i < 4; i++) {
        int mix_id = -1;
        const float *out = tf_amix_output(m, i, &mix_id);
        assert_non_null(out);
        assert_true(mix_id >= 1 && mix_id <= 4);
        assert_false(seen_ids & (1 << mix_id)); /* every speaker has its own mix */
        seen_ids |= 1 << mix_id;
        double own = tone_meter_amplitude(out, TF_AMIX_FRAME, v[i].freq);
        for (int j = 0; j < 4; j++) {
            if (j == i)
                continue;
            double other = tone_meter_amplitude(out, TF_AMIX_FRAME, v[j].freq);
            /* Below the limiter's ceiling the others come through unchanged. */
            assert_true(fabs(db(other / 0.1)) < 0.5);
            assert_true(db(other) - db(own) >= 40.0);
        }
    }
    /* The full mix has all four. */
    const float *full = tf_amix_full_mix(m);
    for (int j = 0; j < 4; j++)
        assert_true(fabs(db(tone_meter_amplitude(full, TF_AMIX_FRAME, v[j].freq) / 0.1)) < 0.5);
    tf_amix_destroy(&m);
    assert_null(m);
}

/* K = 3 of 6 participants of different loudness (not in id order): only the three loudest are
 * mixed; the other three share the full mix, byte for byte. */
static void test_k_loudest_and_shared_mix(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(3);
    voice_t v[6] = {{0, 300, 0.025, 1}, {1, 500, 0.2, 1},     {2, 700, 0.00625, 1},
                    {3, 900, 0.1, 1},   {4, 1100, 0.0125, 1}, {5, 1300, 0.05, 1}};
    const int loud[3] = {1, 3, 5}, quiet[3] = {0, 2, 4};
    for (int i = 0; i < 6; i++)
        assert_int_equal(tf_amix_add(m, i), 0);
    for (long t = 0; t < 20; t++) {
        tick(m, v, 6, t);
        assert_true(tf_amix_mix_count(m) <= 4);
    }
    assert_int_equal(tf_amix_mix_count(m), 4);
    for (int i = 0; i < 3; i++) {
        int id = -1;
        assert_non_null(tf_amix_output(m, loud[i], &id));
        assert_true(id >= 1 && id <= 3);
    }
    const float *full = tf_amix_full_mix(m);
    for (int i = 0; i < 3; i++) {
        int id = -1;
        const float *out = tf_amix_output(m, quiet[i], &id);
        assert_int_equal(id, 0);
        assert_ptr_equal(out, full);
        assert_memory_equal(out, full, sizeof(float) * TF_AMIX_FRAME);
    }
    /* The full mix holds the loud three, nothing of the quiet three. */
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(db(tone_meter_amplitude(full, TF_AMIX_FRAME, v[loud[i]].freq) /
                            v[loud[i]].amp)) < 0.5);
        assert_true(tone_meter_amplitude(full, TF_AMIX_FRAME, v[quiet[i]].freq) < 1e-6);
    }
    /* A loud speaker's mix-minus: the two other loud ones, not the quiet ones, not itself. */
    const float *out1 = tf_amix_output(m, 1, NULL);
    assert_true(tone_meter_amplitude(out1, TF_AMIX_FRAME, 500) < 1e-6);
    assert_true(tone_meter_amplitude(out1, TF_AMIX_FRAME, 900) > 0.09);
    assert_true(tone_meter_amplitude(out1, TF_AMIX_FRAME, 1300) > 0.045);
    assert_true(tone_meter_amplitude(out1, TF_AMIX_FRAME, 300) < 1e-6);
    tf_amix_destroy(&m);
}

/* The mix count stays at most K + 1 for any number of speakers. */
static void test_mix_count_bounded(void **state)
{
    (void)state;
    for (int k = 1; k <= 5; k += 2) {
        tf_amix_t *m = make_mixer(k);
        voice_t v[40];
        for (int i = 0; i < 40; i++) {
            v[i] = (voice_t){i * 5, 100.0 + 50.0 * i, 0.01 + 0.002 * ((i * 7) % 40), 1};
            assert_int_equal(tf_amix_add(m, i * 5), 0);
        }
        for (long t = 0; t < 30; t++) {
            tick(m, v, 40, t);
            assert_true(tf_amix_mix_count(m) <= k + 1);
        }
        assert_int_equal(tf_amix_mix_count(m), k + 1);
        int speakers = 0;
        for (int i = 0; i < 40; i++) {
            int id = -1;
            assert_non_null(tf_amix_output(m, v[i].id, &id));
            assert_true(id >= 0 && id <= k);
            speakers += id > 0;
        }
        assert_int_equal(speakers, k);
        tf_amix_destroy(&m);
    }
}

static double max_abs(const float *buf, int n)
{
    double mx = 0;
    for (int i = 0; i < n; i++)
        mx = fabs(buf[i]) > mx ? fabs(buf[i]) : mx;
    return mx;
}

/* Never at or past full scale and never flat-topped: no two equal neighbours above 0.9. */
static void assert_not_clipped(const float *buf, int n)
{
    for (int i = 0; i < n; i++) {
        assert_true(isfinite(buf[i]));
        assert_true(fabsf(buf[i]) < 1.0f);
        if (i > 0 && fabsf(buf[i]) > 0.9f)
            assert_true(buf[i] != buf[i - 1]);
    }
}

/* What is left of buf once the voices' tones are taken out, relative to buf: a clipper
 * scores around -10 dB here, a smooth gain limiter far lower. */
static double distortion_db(const float *buf, const voice_t *v, int nv)
{
    double total = 0.0, tones = 0.0;
    for (int s = 0; s < TF_AMIX_FRAME; s++)
        total += (double)buf[s] * buf[s];
    for (int i = 0; i < nv; i++) {
        double a = tone_meter_amplitude(buf, TF_AMIX_FRAME, v[i].freq);
        tones += a * a / 2.0 * TF_AMIX_FRAME;
    }
    double rest = total - tones;
    return 10.0 * log10((rest > 1e-12 ? rest : 1e-12) / total);
}

/* Four loud tones sum to peaks near 2.4: the limiter keeps every mix inside (-1, 1) with no
 * flat tops, settles below the knee, and every tone survives at the same relative level. */
static void test_limiter(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(4);
    voice_t v[4] = {{0, 300, 0.6, 1}, {1, 500, 0.6, 1}, {2, 700, 0.6, 1}, {3, 900, 0.6, 1}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(tf_amix_add(m, i), 0);
    for (long t = 0; t < 50; t++) {
        tick(m, v, 4, t);
        const float *full = tf_amix_full_mix(m);
        assert_not_clipped(full, TF_AMIX_FRAME);
        for (int i = 0; i < 4; i++)
            assert_not_clipped(tf_amix_output(m, i, NULL), TF_AMIX_FRAME);
        if (t >= 10) { /* after the onset the gain stage alone holds the peaks, cleanly */
            assert_true(max_abs(full, TF_AMIX_FRAME) < 0.72);
            assert_true(distortion_db(full, v, 4) < -30.0);
        }
    }
    const float *full = tf_amix_full_mix(m);
    double a[4];
    for (int j = 0; j < 4; j++) {
        a[j] = tone_meter_amplitude(full, TF_AMIX_FRAME, v[j].freq);
        assert_true(a[j] > 0.1); /* 0.6 * (0.631 / 2.4) ~ 0.16 */
    }
    for (int j = 1; j < 4; j++)
        assert_true(fabs(db(a[j] / a[0])) < 1.0);
    /* Each mix-minus too: three tones present, its own absent. */
    for (int i = 0; i < 4; i++) {
        const float *out = tf_amix_output(m, i, NULL);
        for (int j = 0; j < 4; j++) {
            double amp = tone_meter_amplitude(out, TF_AMIX_FRAME, v[j].freq);
            if (j == i)
                assert_true(amp < 1e-4);
            else
                assert_true(amp > 0.1);
        }
    }
    tf_amix_destroy(&m);
}

/* Absurd input (a full-scale square wave at +-40 per speaker) still yields distinct samples
 * below 1.0, and the mix recovers to unity gain once the input is quiet again. */
static void test_limiter_extreme_and_recovery(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(2);
    float pcm[TF_AMIX_FRAME];
    assert_int_equal(tf_amix_add(m, 0), 0);
    assert_int_equal(tf_amix_add(m, 1), 0);
    for (long t = 0; t < 5; t++) {
        for (int s = 0; s < TF_AMIX_FRAME; s++)
            pcm[s] = (s / 40) % 2 ? 40.0f : -40.0f;
        assert_int_equal(tf_amix_put(m, 0, pcm, 1), 0);
        pcm[0] = NAN;
        pcm[1] = INFINITY;
        assert_int_equal(tf_amix_put(m, 1, pcm, 1), 0);
        assert_int_equal(tf_amix_run(m), 0);
        assert_not_clipped(tf_amix_full_mix(m), TF_AMIX_FRAME);
    }
    /* Quiet again: after a second the release has brought the gain back. */
    voice_t v[1] = {{0, 500, 0.1, 1}};
    for (long t = 0; t < 50; t++)
        tick(m, v, 1, t);
    assert_true(fabs(db(tone_meter_amplitude(tf_amix_full_mix(m), TF_AMIX_FRAME, 500) / 0.1)) <
                0.5);
    tf_amix_destroy(&m);
}

/* Runs one tick of two voices and returns the active speaker. */
static int tick2(tf_amix_t *m, voice_t *v, long t)
{
    tick(m, v, 2, t);
    return tf_amix_active_speaker(m);
}

/* B gets louder than the active A: A stays active for the hold time, then B takes over. A short
 * louder burst does not switch. Silence ends with nobody active. */
static void test_active_speaker_hysteresis(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(3);
    voice_t v[2] = {{10, 300, 0.1, 1}, {20, 500, 0.0, 1}};
    assert_int_equal(tf_amix_add(m, 10), 0);
    assert_int_equal(tf_amix_add(m, 20), 0);
    assert_int_equal(tf_amix_active_speaker(m), -1);
    long t = 0;
    for (; t < 50; t++)
        assert_int_equal(tick2(m, v, t), 10);

    /* A burst of 200 ms, 10 dB louder: no switch, during or after. */
    v[1].amp = 0.3;
    for (int i = 0; i < 10; i++, t++)
        assert_int_equal(tick2(m, v, t), 10);
    v[1].amp = 0.0;
    for (int i = 0; i < 50; i++, t++)
        assert_int_equal(tick2(m, v, t), 10);

    /* Now B speaks 10 dB louder for good. */
    v[1].amp = 0.3;
    long start = t, switched = -1;
    for (int i = 0; i < 50; i++, t++) {
        if (tick2(m, v, t) == 20 && switched < 0)
            switched = t;
        if (switched >= 0)
            assert_int_equal(tf_amix_active_speaker(m), 20);
    }
    assert_true(switched >= 0);
    long louder_ms = (switched - start + 1) * 20;
    assert_true(louder_ms >= 300);
    assert_true(louder_ms <= 500);

    /* Both fall silent: nobody is active once the hangover (400 ms) is over. */
    v[0].amp = v[1].amp = 0.0;
    for (int i = 0; i < 15; i++, t++)
        assert_int_equal(tick2(m, v, t), 20);
    for (int i = 0; i < 20; i++, t++)
        tick2(m, v, t);
    assert_int_equal(tf_amix_active_speaker(m), -1);
    assert_int_equal(tf_amix_mix_count(m), 1);
    const float *full = tf_amix_full_mix(m);
    for (int s = 0; s < TF_AMIX_FRAME; s++)
        assert_true(full[s] == 0.0f);
    tf_amix_destroy(&m);
}

/* With RFC 6464 levels the mixer believes the levels, not the samples: equal tones, but B is
 * signalled louder, so B takes over (after the hold) and is the one mixed when K = 1. */
static void test_active_speaker_follows_rfc6464(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(1);
    voice_t v[2] = {{1, 300, 0.3, -30}, {2, 500, 0.05, -50}};
    assert_int_equal(tf_amix_add(m, 1), 0);
    assert_int_equal(tf_amix_add(m, 2), 0);
    long t = 0;
    for (; t < 20; t++)
        assert_int_equal(tick2(m, v, t), 1);
    /* B, quieter in the samples, signals -12 dBov. */
    v[1].level = -12;
    long start = t, switched = -1;
    for (int i = 0; i < 40; i++, t++)
        if (tick2(m, v, t) == 2 && switched < 0)
            switched = t;
    assert_true(switched >= 0);
    assert_true((switched - start + 1) * 20 >= 300);
    assert_true(tf_amix_level(m, 2) > -13.0f && tf_amix_level(m, 2) < -11.0f);
    /* K = 1: only B is mixed; A hears B, B hears nobody. */
    int id = -1;
    const float *heard_by_a = tf_amix_output(m, 1, &id);
    assert_int_equal(id, 0);
    assert_true(tone_meter_amplitude(heard_by_a, TF_AMIX_FRAME, 500) > 0.045);
    assert_true(tone_meter_amplitude(heard_by_a, TF_AMIX_FRAME, 300) < 1e-6);
    const float *heard_by_b = tf_amix_output(m, 2, &id);
    assert_int_equal(id, 1);
    assert_true(max_abs(heard_by_b, TF_AMIX_FRAME) == 0.0);
    /* A level below the speech threshold (-45 dBov) counts as silence, loud samples or not. */
    v[0].level = -60;
    v[1].level = -60;
    for (int i = 0; i < 40; i++, t++)
        tick2(m, v, t);
    assert_int_equal(tf_amix_active_speaker(m), -1);
    assert_int_equal(tf_amix_mix_count(m), 1);
    tf_amix_destroy(&m);
}

/* A speaker who pauses keeps its slot (and mix id) through the hangover, then loses it. */
static void test_hangover_keeps_slot(void **state)
{
    (void)state;
    tf_amix_config_t cfg = {.max_speakers = 2, .hangover_ms = 200};
    tf_amix_t *m = NULL;
    assert_int_equal(tf_amix_create(&m, &cfg), 0);
    voice_t v[2] = {{0, 300, 0.1, 1}, {1, 500, 0.1, 1}};
    assert_int_equal(tf_amix_add(m, 0), 0);
    assert_int_equal(tf_amix_add(m, 1), 0);
    long t = 0;
    for (; t < 10; t++)
        tick(m, v, 2, t);
    int id0 = -1, id = -1;
    tf_amix_output(m, 0, &id0);
    assert_true(id0 > 0);
    v[0].amp = 0.0;
    for (int i = 0; i < 10; i++, t++) { /* 200 ms: still mixed, same id */
        tick(m, v, 2, t);
        tf_amix_output(m, 0, &id);
        assert_int_equal(id, id0);
    }
    tick(m, v, 2, t++);
    tf_amix_output(m, 0, &id);
    assert_int_equal(id, 0);
    assert_int_equal(tf_amix_mix_count(m), 2);
    tf_amix_destroy(&m);
}

/* Participants leave and join mid-stream; slots are reused, ids stay stable, nothing stale. */
static void test_remove_add_mid_stream(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(3);
    voice_t v[5] = {{0, 300, 0.2, 1},
                    {1, 500, 0.1, 1},
                    {2, 700, 0.05, 1},
                    {3, 900, 0.025, 1},
                    {255, 1100, 0.0, 1}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(tf_amix_add(m, v[i].id), 0);
    long t = 0;
    for (; t < 10; t++)
        tick(m, v, 4, t);
    int id0, id1, id2, id3, id;
    tf_amix_output(m, 0, &id0);
    tf_amix_output(m, 1, &id1);
    tf_amix_output(m, 2, &id2);
    tf_amix_output(m, 3, &id3);
    assert_true(id0 > 0 && id1 > 0 && id2 > 0);
    assert_int_equal(id3, 0);
    assert_int_equal(tf_amix_active_speaker(m), 0);

    /* The loudest (and active) speaker leaves. */
    assert_int_equal(tf_amix_remove(m, 0), 0);
    assert_int_equal(tf_amix_remove(m, 0), -ENOENT);
    assert_null(tf_amix_output(m, 0, &id));
    assert_int_equal(id, -1);
    assert_int_equal(tf_amix_active_speaker(m), -1);
    float pcm[TF_AMIX_FRAME] = {0};
    assert_int_equal(tf_amix_put(m, 0, pcm, 1), -ENOENT);
    v[0].amp = 0.0;
    tick(m, v, 4, t++);
    /* The next loudest is active at once; 3 moves up into the free slot; 1 and 2 keep theirs. */
    assert_int_equal(tf_amix_active_speaker(m), 1);
    tf_amix_output(m, 1, &id);
    assert_int_equal(id, id1);
    tf_amix_output(m, 2, &id);
    assert_int_equal(id, id2);
    tf_amix_output(m, 3, &id);
    assert_int_equal(id, id0);
    const float *full = tf_amix_full_mix(m);
    assert_true(tone_meter_amplitude(full, TF_AMIX_FRAME, 300) < 1e-6);
    assert_true(tone_meter_amplitude(full, TF_AMIX_FRAME, 900) > 0.02);

    /* Someone joins with the top id, quiet first: hears the full mix. */
    assert_int_equal(tf_amix_add(m, 255), 0);
    assert_int_equal(tf_amix_add(m, 255), -EEXIST);
    tick(m, v, 5, t++);
    assert_ptr_equal(tf_amix_output(m, 255, &id), tf_amix_full_mix(m));
    assert_int_equal(id, 0);
    /* Then loud: replaces the quietest speaker (3), who goes back to the full mix. */
    v[4].amp = 0.3;
    for (int i = 0; i < 5; i++, t++)
        tick(m, v, 5, t);
    tf_amix_output(m, 255, &id);
    assert_int_equal(id, id0);
    tf_amix_output(m, 3, &id);
    assert_int_equal(id, 0);
    assert_true(tf_amix_mix_count(m) == 4);

    /* Re-adding a removed id starts fresh. */
    assert_int_equal(tf_amix_add(m, 0), 0);
    assert_ptr_equal(tf_amix_output(m, 0, &id), tf_amix_full_mix(m));
    assert_int_equal(id, 0);
    assert_true(tf_amix_level(m, 0) <= -127.0f);
    tf_amix_destroy(&m);
}

static void test_arguments(void **state)
{
    (void)state;
    tf_amix_t *m = NULL;
    tf_amix_config_t bad[] = {
        {.max_speakers = -1},     {.max_speakers = TF_AMIX_MAX_SPEAKERS + 1},
        {.hangover_ms = -20},     {.speech_dbov = 3.0f},
        {.speech_dbov = -128.0f}, {.speech_dbov = NAN},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tf_amix_create(&m, &bad[i]), -EINVAL);
        assert_null(m);
    }
    assert_int_equal(tf_amix_create(NULL, NULL), -EINVAL);
    assert_int_equal(tf_amix_create(&m, NULL), 0); /* all defaults */
    /* Before the first tick everyone hears silence. */
    assert_int_equal(tf_amix_add(m, 7), 0);
    int id = 5;
    const float *out = tf_amix_output(m, 7, &id);
    assert_int_equal(id, 0);
    assert_true(max_abs(out, TF_AMIX_FRAME) == 0.0);
    assert_int_equal(tf_amix_mix_count(m), 1);

    float pcm[TF_AMIX_FRAME] = {0};
    assert_int_equal(tf_amix_add(m, -1), -EINVAL);
    assert_int_equal(tf_amix_add(m, TF_AMIX_MAX_INPUTS), -EINVAL);
    assert_int_equal(tf_amix_remove(m, TF_AMIX_MAX_INPUTS), -EINVAL);
    assert_int_equal(tf_amix_remove(m, 8), -ENOENT);
    assert_int_equal(tf_amix_put(m, 7, NULL, 1), -EINVAL);
    assert_int_equal(tf_amix_put(m, 7, pcm, 2), -EINVAL);
    assert_int_equal(tf_amix_put(m, 7, pcm, -128), -EINVAL);
    assert_int_equal(tf_amix_put(m, 7, pcm, 0), 0);
    assert_int_equal(tf_amix_put(m, 7, pcm, -127), 0);
    assert_int_equal(tf_amix_put(m, 8, pcm, 1), -ENOENT);
    assert_null(tf_amix_output(m, 300, &id));
    assert_int_equal(id, -1);
    assert_int_equal(tf_amix_run(NULL), -EINVAL);
    assert_int_equal(tf_amix_run(m), 0);
    tf_amix_destroy(&m);
    assert_null(m);
    tf_amix_destroy(&m);
    tf_amix_destroy(NULL);
}

/* Many ticks with churn; under ASan this also shows nothing leaks or is touched after free. */
static void test_churn(void **state)
{
    (void)state;
    tf_amix_t *m = make_mixer(3);
    float pcm[TF_AMIX_FRAME];
    unsigned seed = 12345;
    for (long t = 0; t < 500; t++) {
        seed = seed * 1103515245u + 12345u;
        int id = (int)((seed >> 16) % 32);
        if (tf_amix_add(m, id) == -EEXIST && (seed & 0x100))
            assert_int_equal(tf_amix_remove(m, id), 0);
        for (int p = 0; p < 32; p++) {
            tone(pcm, 100.0 + 50 * p, 0.02 * (1 + (p + t / 25) % 8), t);
            int rc = tf_amix_put(m, p, pcm, (p % 3) ? 1 : -(int)((p * 7 + t) % 60));
            assert_true(rc == 0 || rc == -ENOENT);
        }
        assert_int_equal(tf_amix_run(m), 0);
        assert_true(tf_amix_mix_count(m) <= 4);
        int active = tf_amix_active_speaker(m);
        assert_true(active == -1 || tf_amix_output(m, active, NULL) != NULL);
        assert_not_clipped(tf_amix_full_mix(m), TF_AMIX_FRAME);
    }
    tf_amix_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_minus),
        cmocka_unit_test(test_k_loudest_and_shared_mix),
        cmocka_unit_test(test_mix_count_bounded),
        cmocka_unit_test(test_limiter),
        cmocka_unit_test(test_limiter_extreme_and_recovery),
        cmocka_unit_test(test_active_speaker_hysteresis),
        cmocka_unit_test(test_active_speaker_follows_rfc6464),
        cmocka_unit_test(test_hangover_keeps_slot),
        cmocka_unit_test(test_remove_add_mid_stream),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
