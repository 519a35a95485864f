/* test_opus.c — tf_opus_*: tones keep pitch and level (mono, stereo), FEC beats PLC, DTX in
 * silence, run-time bit rate, 60 ms frames, bad packets.
 *
 * Synthetic signals only; every test prints what it measured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/opus.h"

#define RATE TF_OPUS_RATE
#define PI 3.14159265358979323846
#define MINUS_12_DBFS 0.25118864f /* peak amplitude of a sine at -12 dBFS */

/* ---- measurements ------------------------------------------------------------------------ */

/* Goertzel power at frequency f of x windowed by win (Hann). */
static double goertzel(const float *x, const double *win, size_t n, size_t stride, double f)
{
    double c = 2 * cos(2 * PI * f / RATE), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i * stride] * win[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
}

static double *hann(size_t n)
{
    double *w = malloc(n * sizeof(*w));
    assert_non_null(w);
    for (size_t i = 0; i < n; i++)
        w[i] = 0.5 - 0.5 * cos(2 * PI * (double)i / (double)(n - 1));
    return w;
}

static double search_peak(const float *x, const double *win, size_t n, size_t stride, double lo,
                          double hi, double step)
{
    double best = lo, best_p = -1;
    for (double f = lo; f <= hi; f += step) {
        double p = goertzel(x, win, n, stride, f);
        if (p > best_p) {
            best_p = p;
            best = f;
        }
    }
    return best;
}

/* Strongest frequency between 50 Hz and 4 kHz: a coarse scan over 0.1 s (its main lobe is wide
 * enough for 2 Hz steps), then two refinements over the whole signal. Unlike counting zero
 * crossings, this is not fooled by low-level high-frequency coding noise. */
static double peak_hz(const float *x, size_t n, size_t stride)
{
    size_t nc = RATE / 10;
    double *wc = hann(nc), *w = hann(n);
    double f = search_peak(x, wc, nc, stride, 50, 4000, 2);
    f = search_peak(x, w, n, stride, f - 15, f + 15, 0.25);
    f = search_peak(x, w, n, stride, f - 0.25, f + 0.25, 0.005);
    free(wc);
    free(w);
    return f;
}

static double rms(const float *x, size_t n, size_t stride)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i * stride] * x[i * stride];
    return sqrt(s / (double)n);
}

/* Share of the signal's energy at frequency f (Goertzel over a Hann window): ~1 for a pure
 * tone, small for noise. */
static double tone_purity(const float *x, size_t n, size_t stride, double f)
{
    double w = 2 * PI * f / RATE, c = 2 * cos(w), s1 = 0, s2 = 0, energy = 0;
    for (size_t i = 0; i < n; i++) {
        double win = 0.5 - 0.5 * cos(2 * PI * (double)i / (double)(n - 1));
        double v = x[i * stride] * win;
        energy += v * v;
        double s0 = v + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - c * s1 * s2;
    /* A windowed sine of amplitude A gives |X|^2 ≈ (A * sum(win) / 2)^2 and energy ≈
     * A^2 / 2 * sum(win^2); the ratio is normalised with the Hann constants. */
    double hann_sum = (double)n / 2, hann_sq = 3.0 * (double)n / 8;
    return power / (hann_sum * hann_sum / 4) / (energy / (hann_sq / 2));
}

/* ---- round trips of tones --------------------------------------------------------------- */

typedef struct tone_result {
    double hz[2], level_db[2], purity[2];
    double avg_bytes;
} tone_result_t;

/* Encodes 2 s of one tone per channel and measures the decoded 0.2 .. 2.0 s. */
static void tone_roundtrip(int channels, const double freq[2], int bitrate, int frame_ms,
                           tone_result_t *res)
{
    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    cfg.channels = channels;
    cfg.bitrate_bps = bitrate;
    cfg.frame_ms = frame_ms;
    tf_opus_enc_t *enc = NULL;
    tf_opus_dec_t *dec = NULL;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    assert_int_equal(tf_opus_dec_create(&dec, channels), 0);
    int fs = tf_opus_enc_frame_samples(enc);
    assert_int_equal(fs, RATE / 1000 * frame_ms);
    int frames = 2 * 1000 / frame_ms;
    size_t total = (size_t)frames * (size_t)fs;
    float *in = calloc(total * (size_t)channels, sizeof(float));
    float *out = calloc(total * (size_t)channels, sizeof(float));
    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < total; i++)
        for (int c = 0; c < channels; c++)
            in[i * (size_t)channels + (size_t)c] =
                MINUS_12_DBFS * (float)sin(2 * PI * freq[c] * (double)i / RATE);
    uint8_t pkt[TF_OPUS_MAX_PACKET];
    uint64_t bytes = 0;
    for (int f = 0; f < frames; f++) {
        size_t off = (size_t)f * (size_t)fs * (size_t)channels;
        int n = tf_opus_enc_encode(enc, in + off, pkt, sizeof(pkt));
        assert_true(n > 2);
        bytes += (uint64_t)n;
        assert_int_equal(tf_opus_dec_decode(dec, pkt, (size_t)n, 0, out + off, fs), fs);
    }
    size_t skip = RATE / 5, len = total - skip;
    for (int c = 0; c < channels; c++) {
        const float *o = out + skip * (size_t)channels + (size_t)c;
        const float *i = in + skip * (size_t)channels + (size_t)c;
        res->hz[c] = peak_hz(o, len, (size_t)channels);
        res->level_db[c] =
            20 * log10(rms(o, len, (size_t)channels) / rms(i, len, (size_t)channels));
        res->purity[c] = tone_purity(o, len, (size_t)channels, freq[c]);
    }
    res->avg_bytes = (double)bytes / frames;
    free(in);
    free(out);
    tf_opus_dec_destroy(&dec);
    tf_opus_enc_destroy(&enc);
    assert_null(dec);
    assert_null(enc);
}

static void check_tone(const char *what, int channels, const double freq[2], int bitrate,
                       int frame_ms)
{
    tone_result_t r;
    tone_roundtrip(channels, freq, bitrate, frame_ms, &r);
    for (int c = 0; c < channels; c++) {
        printf("  %-22s ch%d %6.1f Hz → %7.2f Hz, level %+5.2f dB, tone purity %.3f "
               "(%.1f B/packet)\n",
               what, c, freq[c], r.hz[c], r.level_db[c], r.purity[c], r.avg_bytes);
        assert_true(fabs(r.hz[c] - freq[c]) <= 3.0);
        assert_true(fabs(r.level_db[c]) <= 1.5);
        assert_true(r.purity[c] > 0.9);
    }
}

static void test_tone_mono(void **state)
{
    (void)state;
    check_tone("mono 24 kbit/s 20 ms", 1, (const double[2]){440, 0}, 24000, 20);
    check_tone("mono 24 kbit/s 20 ms", 1, (const double[2]){1000, 0}, 24000, 20);
    check_tone("mono 16 kbit/s 60 ms", 1, (const double[2]){440, 0}, 16000, 60);
    check_tone("mono 24 kbit/s 40 ms", 1, (const double[2]){1000, 0}, 24000, 40);
}

static void test_tone_stereo(void **state)
{
    (void)state;
    check_tone("stereo 64 kbit/s", 2, (const double[2]){440, 1000}, 64000, 20);
    check_tone("stereo 64 kbit/s", 2, (const double[2]){1000, 440}, 64000, 20);
}

/* ---- FEC against PLC -------------------------------------------------------------------- */

/* Voice-like: five harmonics of a pitch gliding 140 → 220 Hz, with a 4 Hz syllable envelope. */
static void voice_like(float *x, size_t n)
{
    double phase = 0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        double f0 = 140 + 40 * t;
        phase += 2 * PI * f0 / RATE;
        double env = 0.35 + 0.65 * fabs(sin(PI * 4 * t));
        double v = 0;
        for (int h = 1; h <= 5; h++)
            v += sin(phase * h + h) / h;
        x[i] = (float)(0.15 * env * v);
    }
}

typedef struct loss_result {
    double snr_plc, snr_fec, corr_plc, corr_fec;
} loss_result_t;

/* Encodes 2 s of voice_like() at 24 kbit/s, loses six isolated frames and rebuilds them with
 * PLC alone and with FEC from the next packet; both are compared with the loss-free decode. */
static void lose_frames(int inband_fec, int loss_pct, loss_result_t *r)
{
    enum { FRAMES = 100, FS = 960 };
    static const int lost[] = {20, 33, 47, 61, 74, 88};
    const int n_lost = (int)(sizeof(lost) / sizeof(lost[0]));
    float *in = calloc((size_t)FRAMES * FS, sizeof(float));
    float *ref = calloc((size_t)FRAMES * FS, sizeof(float));
    float *plc = calloc((size_t)FRAMES * FS, sizeof(float));
    float *fec = calloc((size_t)FRAMES * FS, sizeof(float));
    uint8_t(*pkt)[TF_OPUS_MAX_PACKET] = calloc(FRAMES, TF_OPUS_MAX_PACKET);
    assert_true(in && ref && plc && fec && pkt);
    voice_like(in, (size_t)FRAMES * FS);

    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    cfg.inband_fec = inband_fec;
    cfg.expected_loss_pct = loss_pct;
    tf_opus_enc_t *enc = NULL;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    int len[FRAMES];
    for (int f = 0; f < FRAMES; f++) {
        len[f] = tf_opus_enc_encode(enc, in + (size_t)f * FS, pkt[f], TF_OPUS_MAX_PACKET);
        assert_true(len[f] > 2);
    }
    tf_opus_enc_destroy(&enc);

    tf_opus_dec_t *dr = NULL, *dp = NULL, *df = NULL;
    assert_int_equal(tf_opus_dec_create(&dr, 1), 0);
    assert_int_equal(tf_opus_dec_create(&dp, 1), 0);
    assert_int_equal(tf_opus_dec_create(&df, 1), 0);
    for (int f = 0; f < FRAMES; f++) {
        size_t off = (size_t)f * FS;
        int is_lost = 0;
        for (int k = 0; k < n_lost; k++)
            is_lost |= lost[k] == f;
        assert_int_equal(tf_opus_dec_decode(dr, pkt[f], (size_t)len[f], 0, ref + off, FS), FS);
        if (is_lost) {
            assert_int_equal(tf_opus_dec_decode(dp, NULL, 0, 0, plc + off, FS), FS);
            assert_int_equal(
                tf_opus_dec_decode(df, pkt[f + 1], (size_t)len[f + 1], 1, fec + off, FS), FS);
        } else {
            assert_int_equal(tf_opus_dec_decode(dp, pkt[f], (size_t)len[f], 0, plc + off, FS), FS);
            assert_int_equal(tf_opus_dec_decode(df, pkt[f], (size_t)len[f], 0, fec + off, FS), FS);
        }
    }
    double sig = 0, err_plc = 0, err_fec = 0, xy_p = 0, xy_f = 0, pp = 0, ff = 0;
    for (int k = 0; k < n_lost; k++) {
        size_t off = (size_t)lost[k] * FS;
        for (size_t i = off; i < off + FS; i++) {
            sig += (double)ref[i] * ref[i];
            err_plc += ((double)ref[i] - plc[i]) * ((double)ref[i] - plc[i]);
            err_fec += ((double)ref[i] - fec[i]) * ((double)ref[i] - fec[i]);
            xy_p += (double)ref[i] * plc[i];
            xy_f += (double)ref[i] * fec[i];
            pp += (double)plc[i] * plc[i];
            ff += (double)fec[i] * fec[i];
        }
    }
    r->snr_plc = 10 * log10(sig / err_plc);
    r->snr_fec = 10 * log10(sig / err_fec);
    r->corr_plc = xy_p / sqrt(sig * pp);
    r->corr_fec = xy_f / sqrt(sig * ff);
    printf("  FEC %s, loss hint %2d %%: lost frames vs loss-free decode: PLC SNR %.2f dB (corr "
           "%.3f), FEC SNR %.2f dB (corr %.3f)\n",
           inband_fec ? "on " : "off", loss_pct, r->snr_plc, r->corr_plc, r->snr_fec, r->corr_fec);
    tf_opus_dec_destroy(&dr);
    tf_opus_dec_destroy(&dp);
    tf_opus_dec_destroy(&df);
    free(in);
    free(ref);
    free(plc);
    free(fec);
    free(pkt);
}

static void test_fec_beats_plc(void **state)
{
    (void)state;
    loss_result_t on, off, dflt;
    lose_frames(1, 20, &on);
    lose_frames(0, 20, &off);
    lose_frames(1, 5, &dflt); /* the config default: printed, see below */
    /* With LBRR in the next packet the lost frame is rebuilt closer to the original. */
    assert_true(on.snr_fec > on.snr_plc + 1.5);
    assert_true(on.corr_fec > on.corr_plc + 0.05);
    /* Control: without LBRR, decoding "with FEC" is plain concealment, sample for sample the
     * same as PLC — so the gain above really comes from the redundancy. */
    assert_true(fabs(off.snr_fec - off.snr_plc) < 0.01);
    /* libopus 1.3.1 at 24 kbit/s sends no LBRR for this signal with a 5 % hint (it weighs the
     * hint against the rate); the gain appears from ~10 %. Reported, not asserted either way. */
    printf("  with the default 5 %% hint LBRR was %s\n",
           fabs(dflt.snr_fec - dflt.snr_plc) < 0.01 ? "absent" : "present");
}

/* ---- DTX -------------------------------------------------------------------------------- */

static void test_dtx_silence(void **state)
{
    (void)state;
    enum { FS = 960 };
    float tone[FS], silence[FS];
    memset(silence, 0, sizeof(silence));
    for (int i = 0; i < FS; i++)
        tone[i] = MINUS_12_DBFS * (float)sin(2 * PI * 440 * i / RATE);
    for (int dtx = 1; dtx >= 0; dtx--) {
        tf_opus_enc_config_t cfg;
        tf_opus_enc_config_default(&cfg);
        cfg.dtx = dtx;
        tf_opus_enc_t *enc = NULL;
        tf_opus_dec_t *dec = NULL;
        assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
        assert_int_equal(tf_opus_dec_create(&dec, 1), 0);
        uint8_t pkt[TF_OPUS_MAX_PACKET];
        float out[FS];
        uint64_t tone_bytes = 0, quiet_bytes = 0;
        int tiny = 0, quiet = 0;
        for (int f = 0; f < 150; f++) { /* 1 s of tone, 2 s of silence */
            int n = tf_opus_enc_encode(enc, f < 50 ? tone : silence, pkt, sizeof(pkt));
            assert_true(n > 0);
            /* Every packet, DTX ones included, decodes to a frame. */
            assert_int_equal(tf_opus_dec_decode(dec, pkt, (size_t)n, 0, out, FS), FS);
            if (f < 50) {
                tone_bytes += (uint64_t)n;
            } else if (f >= 60) { /* the encoder needs ~200 ms to decide on silence */
                quiet++;
                quiet_bytes += (uint64_t)n;
                tiny += n <= 2;
            }
        }
        printf("  DTX %s: tone %.1f B/packet, silence %.1f B/packet, %d of %d silent packets "
               "<= 2 B\n",
               dtx ? "on " : "off", tone_bytes / 50.0, (double)quiet_bytes / quiet, tiny, quiet);
        if (dtx)
            assert_true(tiny >= quiet * 8 / 10);
        else
            assert_int_equal(tiny, 0);
        tf_opus_enc_destroy(&enc);
        tf_opus_dec_destroy(&dec);
    }
}

/* ---- bit rate at run time --------------------------------------------------------------- */

static void test_set_bitrate(void **state)
{
    (void)state;
    enum { FS = 960, FRAMES = 200 };
    float *x = calloc((size_t)FRAMES * FS, sizeof(float));
    assert_non_null(x);
    voice_like(x, (size_t)FRAMES * FS);
    uint32_t seed = 1;
    for (size_t i = 0; i < (size_t)FRAMES * FS; i++) { /* breath noise keeps the coder busy */
        seed = seed * 1664525u + 1013904223u;
        x[i] += 0.02f * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    cfg.bitrate_bps = 32000;
    tf_opus_enc_t *enc = NULL;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    uint8_t pkt[TF_OPUS_MAX_PACKET];
    uint64_t before = 0, after = 0;
    for (int f = 0; f < FRAMES; f++) {
        if (f == FRAMES / 2)
            assert_int_equal(tf_opus_enc_set_bitrate(enc, 12000), 0);
        int n = tf_opus_enc_encode(enc, x + (size_t)f * FS, pkt, sizeof(pkt));
        assert_true(n > 0);
        if (f >= 10 && f < FRAMES / 2)
            before += (uint64_t)n;
        else if (f >= FRAMES / 2 + 10)
            after += (uint64_t)n;
    }
    double b = (double)before / (FRAMES / 2 - 10), a = (double)after / (FRAMES / 2 - 10);
    printf("  32 kbit/s: %.1f B/packet (%.1f kbit/s); after set_bitrate(12000): %.1f B/packet "
           "(%.1f kbit/s)\n",
           b, b * 8 * 50 / 1000, a, a * 8 * 50 / 1000);
    assert_true(a < 0.6 * b);
    assert_true(b * 8 * 50 > 32000 * 0.7 && b * 8 * 50 < 32000 * 1.3);
    assert_true(a * 8 * 50 > 12000 * 0.7 && a * 8 * 50 < 12000 * 1.3);
    assert_int_equal(tf_opus_enc_set_bitrate(enc, 100), -EINVAL);
    assert_int_equal(tf_opus_enc_set_expected_loss(enc, 10), 0);
    assert_int_equal(tf_opus_enc_set_expected_loss(enc, 101), -EINVAL);
    tf_opus_enc_destroy(&enc);
    free(x);
}

/* ---- arguments and bad packets ---------------------------------------------------------- */

static void test_bad_input(void **state)
{
    (void)state;
    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    assert_int_equal(cfg.channels, 1);
    assert_int_equal(cfg.bitrate_bps, 24000);
    assert_int_equal(cfg.frame_ms, 20);
    assert_int_equal(cfg.inband_fec, 1);
    assert_int_equal(cfg.expected_loss_pct, 5);
    assert_int_equal(cfg.dtx, 0);
    assert_int_equal(cfg.complexity, -1); /* libopus's own default */
    tf_opus_enc_t *enc = NULL;
    cfg.complexity = 11;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), -EINVAL);
    cfg.complexity = -2;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), -EINVAL);
    cfg.complexity = 0;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    tf_opus_enc_destroy(&enc);
    cfg.complexity = -1;
    cfg.frame_ms = 30;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), -EINVAL);
    cfg.frame_ms = 0; /* 20 ms */
    cfg.channels = 3;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), -EINVAL);
    cfg.channels = 2;
    cfg.frame_ms = 60;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    assert_int_equal(tf_opus_enc_frame_samples(enc), 2880);
    static float pcm[2880 * 2];
    uint8_t pkt[TF_OPUS_MAX_PACKET];
    int n = tf_opus_enc_encode(enc, pcm, pkt, sizeof(pkt));
    assert_true(n > 0);
    tf_opus_enc_destroy(&enc);

    tf_opus_dec_t *dec = NULL;
    assert_int_equal(tf_opus_dec_create(&dec, 0), -EINVAL);
    assert_int_equal(tf_opus_dec_create(&dec, 2), 0);
    /* A 60 ms packet does not fit a 20 ms buffer. */
    assert_int_equal(tf_opus_dec_decode(dec, pkt, (size_t)n, 0, pcm, 960), -ENOBUFS);
    assert_int_equal(tf_opus_dec_decode(dec, pkt, (size_t)n, 0, pcm, 2880), 2880);
    /* Code-3 packet announcing zero frames: invalid. */
    const uint8_t bad[] = {0x03, 0x00};
    assert_int_equal(tf_opus_dec_decode(dec, bad, sizeof(bad), 0, pcm, 2880), -EPROTO);
    /* PLC for a 60 ms gap. */
    assert_int_equal(tf_opus_dec_decode(dec, NULL, 0, 0, pcm, 2880), 2880);
    assert_int_equal(tf_opus_dec_decode(dec, NULL, 0, 0, NULL, 960), -EINVAL);
    tf_opus_dec_destroy(&dec);
    tf_opus_dec_destroy(&dec);
}

/* ---- random loss: the room's mix profiles with its loss hint ------------------------------ */

/* 20 s of voice_like() through one of the room's mix profiles (rate, packet ms, loss hint),
 * seeded random packet loss; the receiver decodes the packet after a loss with FEC, as the
 * room's jitter path does. A frame counts as reconstructed when its SNR against the loss-free
 * decode beats concealment's by 1 dB. Returns the fraction of frames intact or rebuilt. */
static double random_loss(int bps, int ms, int hint, double loss, double *kbps)
{
    enum { SECONDS = 20 };
    int fs = RATE / 1000 * ms, frames = SECONDS * 1000 / ms;
    float *in = calloc((size_t)frames * fs, sizeof(float));
    float *ref = calloc((size_t)fs, sizeof(float)), *got = calloc((size_t)fs, sizeof(float));
    float *plc = calloc((size_t)fs, sizeof(float));
    uint8_t(*pkt)[TF_OPUS_MAX_PACKET] = calloc((size_t)frames, TF_OPUS_MAX_PACKET);
    int *len = calloc((size_t)frames, sizeof(int));
    assert_true(in && ref && got && plc && pkt && len);
    voice_like(in, (size_t)frames * fs);
    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    cfg.bitrate_bps = bps;
    cfg.frame_ms = ms;
    cfg.expected_loss_pct = hint;
    tf_opus_enc_t *enc = NULL;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    double bytes = 0;
    for (int f = 0; f < frames; f++) {
        len[f] = tf_opus_enc_encode(enc, in + (size_t)f * fs, pkt[f], TF_OPUS_MAX_PACKET);
        assert_true(len[f] > 2);
        bytes += len[f];
    }
    tf_opus_enc_destroy(&enc);
    *kbps = bytes * 8 / SECONDS / 1000;
    tf_opus_dec_t *dr = NULL, *dg = NULL, *dp = NULL;
    assert_int_equal(tf_opus_dec_create(&dr, 1), 0);
    assert_int_equal(tf_opus_dec_create(&dg, 1), 0);
    assert_int_equal(tf_opus_dec_create(&dp, 1), 0);
    uint64_t seed = 0x5eed ^ (uint64_t)(loss * 1000) ^ (uint64_t)ms << 20;
    int good = 0, lost = 0, rebuilt = 0;
    char *drop = calloc((size_t)frames, 1);
    assert_non_null(drop);
    for (int f = 1; f < frames - 1; f++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        drop[f] = (double)(seed >> 11) / 9007199254740992.0 < loss;
    }
    for (int f = 0; f < frames; f++) {
        assert_int_equal(tf_opus_dec_decode(dr, pkt[f], (size_t)len[f], 0, ref, fs), fs);
        if (!drop[f]) {
            assert_int_equal(tf_opus_dec_decode(dg, pkt[f], (size_t)len[f], 0, got, fs), fs);
            assert_int_equal(tf_opus_dec_decode(dp, pkt[f], (size_t)len[f], 0, plc, fs), fs);
            good++;
            continue;
        }
        lost++;
        int next = f + 1 < frames && !drop[f + 1];
        assert_int_equal(tf_opus_dec_decode(dg, next ? pkt[f + 1] : NULL,
                                            next ? (size_t)len[f + 1] : 0, next, got, fs), fs);
        assert_int_equal(tf_opus_dec_decode(dp, NULL, 0, 0, plc, fs), fs);
        double sig = 0, eg = 0, ep = 0;
        for (int i = 0; i < fs; i++) {
            sig += (double)ref[i] * ref[i];
            eg += ((double)ref[i] - got[i]) * ((double)ref[i] - got[i]);
            ep += ((double)ref[i] - plc[i]) * ((double)ref[i] - plc[i]);
        }
        if (10 * log10((sig + 1e-12) / (eg + 1e-12)) > 10 * log10((sig + 1e-12) / (ep + 1e-12)) + 1)
            rebuilt++;
    }
    double ok = (double)(good + rebuilt) / frames;
    printf("  %2d kbit/s %2d ms hint %2d %%, loss %.0f %%: %d of %d lost frames rebuilt, "
           "%.2f %% intact or rebuilt, %.1f kbit/s payload\n",
           bps / 1000, ms, hint, loss * 100, rebuilt, lost, 100 * ok, *kbps);
    tf_opus_dec_destroy(&dr);
    tf_opus_dec_destroy(&dg);
    tf_opus_dec_destroy(&dp);
    free(drop);
    free(in);
    free(ref);
    free(got);
    free(plc);
    free(pkt);
    free(len);
    return ok;
}

static void test_room_profiles_random_loss(void **state)
{
    (void)state;
    static const struct {
        int bps, ms;
    } prof[] = {{32000, 20}, {24000, 40}, {16000, 60}};
    for (size_t p = 0; p < sizeof(prof) / sizeof(prof[0]); p++) {
        double k0, k10, k;
        double none = random_loss(prof[p].bps, prof[p].ms, 0, 0.02, &k0);
        /* The room's hint: 10 % + 3 × the measured loss, at most 25 % (room_audio.c). */
        double two = random_loss(prof[p].bps, prof[p].ms, 16, 0.02, &k10);
        double five = random_loss(prof[p].bps, prof[p].ms, 25, 0.05, &k);
        printf("  -> FEC cost at hint 16 %%: %+.1f kbit/s payload (%.1f vs %.1f)\n", k10 - k0, k10,
               k0);
        assert_true(none < 0.99); /* without a hint nothing is rebuilt: the link's loss shows */
        /* 16 kbit/s in 60 ms packets (the audio-only tier) gets no LBRR from libopus 1.3.1 at
         * these hints, and 5 % on 40 ms packets is short of 99 %: reported, not asserted. */
        if (prof[p].ms <= 40)
            assert_true(two >= 0.99);
        if (prof[p].ms == 20)
            assert_true(five >= 0.99);
        (void)k;
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tone_mono),     cmocka_unit_test(test_tone_stereo),
        cmocka_unit_test(test_fec_beats_plc), cmocka_unit_test(test_dtx_silence),
        cmocka_unit_test(test_set_bitrate),   cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_room_profiles_random_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
