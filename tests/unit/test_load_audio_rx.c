/* test_load_audio_rx.c — bench/load/audio_rx.c, tafel-load's Opus FEC accounting: the LBRR flag
 * read from the header bits agrees with what libopus's encoder was asked for (FEC on at 20, 40
 * and 60 ms, mono and stereo; off; CELT-only), a packet flagged as carrying FEC really rebuilds
 * the lost packet before it better than concealment does, and the counters split intact,
 * rebuilt and concealed packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "bench/load/audio_rx.h"
#include "codec/opus.h"

/* Speech-like: five harmonics of a pitch gliding 120 -> 220 Hz every second, 4 Hz syllables
 * (SILK's VAD sends no LBRR for a stationary tone). */
static void voice(float *pcm, int n, int channels, uint64_t *t0, double *phase)
{
    for (int i = 0; i < n; i++) {
        double t = (double)(*t0 + (uint64_t)i) / TF_OPUS_RATE;
        double f0 = 120 + 100 * fmod(t, 1.0);
        *phase = fmod(*phase + 2 * M_PI * f0 / TF_OPUS_RATE, 2 * M_PI * 60);
        double env = 0.3 + 0.7 * fabs(sin(M_PI * 4 * t)), v = 0;
        for (int h = 1; h <= 5; h++)
            v += sin(*phase * h + h) / h;
        for (int c = 0; c < channels; c++)
            pcm[i * channels + c] = (float)(0.12 * env * v * (c ? 0.7 : 1.0));
    }
    *t0 += (uint64_t)n;
}

/* Encodes 2 s and returns how many packets of the second half carry FEC (of *total). */
static int fec_packets(int channels, int frame_ms, int fec, int voice_mode, int bps, int *total)
{
    tf_opus_enc_config_t c;
    tf_opus_enc_config_default(&c);
    c.channels = channels;
    c.frame_ms = frame_ms;
    c.inband_fec = fec;
    c.expected_loss_pct = 20;
    c.voice = voice_mode;
    c.bitrate_bps = bps;
    tf_opus_enc_t *e = NULL;
    assert_int_equal(tf_opus_enc_create(&e, &c), 0);
    int spf = tf_opus_enc_frame_samples(e), n_pkts = 2000 / frame_ms, with = 0;
    float pcm[2880 * 2];
    uint64_t t0 = 0;
    double ph = 0;
    *total = 0;
    for (int k = 0; k < n_pkts; k++) {
        uint8_t pkt[1500];
        voice(pcm, spf, channels, &t0, &ph);
        int n = tf_opus_enc_encode(e, pcm, pkt, sizeof(pkt));
        assert_true(n > 0);
        int f = lg_opus_has_fec(pkt, (size_t)n);
        assert_true(f == 0 || f == 1);
        if (k >= n_pkts / 2) {
            with += f;
            (*total)++;
        }
    }
    tf_opus_enc_destroy(&e);
    return with;
}

static void test_flag_follows_encoder(void **state)
{
    (void)state;
    static const int ms[] = {20, 40, 60};
    for (int ch = 1; ch <= 2; ch++)
        for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
            int total = 0;
            int on = fec_packets(ch, ms[i], 1, 1, 24000, &total);
            assert_true(total > 0);
            /* voice with FEC on: LBRR follows every voiced packet (the quiet ends of its
             * syllables are not), off: none */
            assert_true(on * 2 >= total);
            assert_int_equal(fec_packets(ch, ms[i], 0, 1, 24000, &total), 0);
        }
}

static void test_celt_and_malformed(void **state)
{
    (void)state;
    /* config 31: CELT-only fullband 20 ms, one frame of 3 bytes with every bit set */
    uint8_t celt[4] = {31 << 3, 0xff, 0xff, 0xff};
    assert_int_equal(lg_opus_has_fec(celt, sizeof(celt)), 0);
    /* config 1 (SILK NB 20 ms), mono: VAD bit 7, LBRR bit 6 */
    uint8_t silk[3] = {1 << 3, 0x40, 0x00};
    assert_int_equal(lg_opus_has_fec(silk, sizeof(silk)), 1);
    silk[1] = 0x80; /* VAD only */
    assert_int_equal(lg_opus_has_fec(silk, sizeof(silk)), 0);
    /* config 3 (SILK NB 60 ms) stereo: mid VAD bits 7..5, mid LBRR bit 4, side VAD 3..1, side
     * LBRR bit 0 */
    uint8_t st[3] = {3 << 3 | 0x04, 0x01, 0x00};
    assert_int_equal(lg_opus_has_fec(st, sizeof(st)), 1);
    st[1] = 0xee; /* every VAD bit, no LBRR */
    assert_int_equal(lg_opus_has_fec(st, sizeof(st)), 0);
    uint8_t dtx[1] = {1 << 3}; /* an empty frame */
    assert_int_equal(lg_opus_has_fec(dtx, sizeof(dtx)), 0);
    uint8_t bad[2] = {1 << 3 | 3, 0xff}; /* code 3 with 63 frames in 1 byte */
    assert_int_equal(lg_opus_has_fec(bad, sizeof(bad)), -EINVAL);
    assert_int_equal(lg_opus_has_fec(NULL, 0), -EINVAL);
}

static double snr(const float *ref, const float *x, int n)
{
    double sig = 1e-12, err = 1e-12;
    for (int i = 0; i < n; i++) {
        sig += (double)ref[i] * ref[i];
        err += ((double)ref[i] - x[i]) * ((double)ref[i] - x[i]);
    }
    return 10 * log10(sig / err);
}

/* Every 5th packet lost: one whose successor is flagged is rebuilt from it (better than PLC
 * against the loss-free decode), the others are not, and the counters say so. */
static void test_rebuild_counts(void **state)
{
    (void)state;
    tf_opus_enc_config_t c;
    tf_opus_enc_config_default(&c);
    c.expected_loss_pct = 20;
    c.voice = 1;
    tf_opus_enc_t *e = NULL;
    tf_opus_dec_t *ref = NULL, *rx = NULL, *plc = NULL;
    assert_int_equal(tf_opus_enc_create(&e, &c), 0);
    assert_int_equal(tf_opus_dec_create(&ref, 1), 0);
    assert_int_equal(tf_opus_dec_create(&rx, 1), 0);
    assert_int_equal(tf_opus_dec_create(&plc, 1), 0);
    lg_audio_count_t cnt;
    memset(&cnt, 0, sizeof(cnt));
    float pcm[960], want[960], got[960], conc[960], lost_ref[960];
    uint64_t t0 = 0;
    double ph = 0;
    int flagged = 0, flagged_better = 0, plain = 0, plain_better = 0, lost = 0, arrived = 0;
    uint32_t pending = 0;
    for (int k = 0; k < 501; k++) { /* ends with one that arrived */
        uint8_t pkt[1500];
        voice(pcm, 960, 1, &t0, &ph);
        int n = tf_opus_enc_encode(e, pcm, pkt, sizeof(pkt));
        assert_true(n > 0);
        assert_int_equal(tf_opus_dec_decode(ref, pkt, (size_t)n, 0, want, 960), 960);
        if (k % 5 == 4 && k > 20) {
            memcpy(lost_ref, want, sizeof(want));
            pending++;
            lost++;
            continue;
        }
        arrived++;
        int fec = lg_audio_count_packet(&cnt, pkt, (size_t)n, pending);
        if (pending) {
            /* the same decoder state on both sides: FEC from this packet, or concealment */
            assert_int_equal(tf_opus_dec_decode(rx, pkt, (size_t)n, 1, got, 960), 960);
            assert_int_equal(tf_opus_dec_decode(plc, NULL, 0, 0, conc, 960), 960);
            int better = snr(lost_ref, got, 960) > snr(lost_ref, conc, 960) + 1;
            flagged += fec;
            flagged_better += fec && better;
            plain += !fec;
            plain_better += !fec && better;
            pending = 0;
        }
        assert_int_equal(tf_opus_dec_decode(rx, pkt, (size_t)n, 0, got, 960), 960);
        assert_int_equal(tf_opus_dec_decode(plc, pkt, (size_t)n, 0, conc, 960), 960);
    }
    assert_int_equal(cnt.intact, (uint64_t)arrived);
    assert_int_equal(cnt.rebuilt, (uint64_t)flagged);
    assert_int_equal(cnt.concealed, (uint64_t)plain);
    assert_int_equal(flagged + plain, lost);
    print_message("lost %d: flagged %d (%d rebuilt better than PLC), not flagged %d (%d)\n", lost,
                  flagged, flagged_better, plain, plain_better);
    assert_true(flagged * 2 >= lost);
    assert_true(flagged_better * 10 >= flagged * 8);
    assert_true(plain_better * 10 <= plain * 2);

    /* two lost in a row: at most the second is rebuilt */
    uint8_t pkt[1500];
    voice(pcm, 960, 1, &t0, &ph);
    int n = tf_opus_enc_encode(e, pcm, pkt, sizeof(pkt));
    lg_audio_count_t two;
    memset(&two, 0, sizeof(two));
    int fec = lg_audio_count_packet(&two, pkt, (size_t)n, 2);
    assert_int_equal(fec, lg_opus_has_fec(pkt, (size_t)n));
    assert_int_equal(two.intact, 1);
    assert_int_equal(two.rebuilt, (uint64_t)fec);
    assert_int_equal(two.concealed, 2 - (uint64_t)fec);
    tf_opus_enc_destroy(&e);
    tf_opus_dec_destroy(&ref);
    tf_opus_dec_destroy(&rx);
    tf_opus_dec_destroy(&plc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flag_follows_encoder),
        cmocka_unit_test(test_celt_and_malformed),
        cmocka_unit_test(test_rebuild_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
