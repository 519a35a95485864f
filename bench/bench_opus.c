/* bench_opus.c — what a room's Opus encoder costs at each libopus complexity, against libopus's
 * default, and what the complexity does to the sound: encoder CPU as a ratio to the default
 * measured in interleaved rounds of the same process, and the log-spectral distance of the decoded
 * signal from the input (delay-aligned) as a coarse, phase-blind quality proxy. The encoder is configured as
 * server/room_audio.c configures a mix's encoder: mono, 20 ms, 32 kbit/s, voice, in-band FEC with
 * 2 % expected loss. The input is a room's mix: two voice-like talkers (harmonics on a gliding
 * pitch, syllable envelope) over a quiet noise floor.
 *
 * Usage: bench_opus [--quick] [--rounds R] [--seconds S]. Not a timing test: CI only runs it with
 * --quick to see that it works. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/opus.h"

enum { FRAME = TF_OPUS_RATE / 50, MAX_DELAY = 1200 };

static const int complexities[] = {-1, 10, 8, 6, 5, 4, 3, 2, 1, 0};
#define N_CX ((int)(sizeof(complexities) / sizeof(complexities[0])))

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_opus: %s (%d)\n", what, err);
    exit(1);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_mix(float *pcm, int n)
{
    unsigned seed = 0x7afe;
    double ph[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        double t = (double)i / TF_OPUS_RATE, s = 0;
        for (int v = 0; v < 2; v++) {
            double f0 = (v ? 190.0 : 120.0) * (1 + 0.08 * sin(2 * M_PI * 0.7 * t + v));
            double env = fmax(0, sin(2 * M_PI * (3.1 + v * 0.9) * t + v)); /* syllables */
            ph[v] += 2 * M_PI * f0 / TF_OPUS_RATE;
            for (int h = 1; h <= 12; h++)
                s += 0.12 * env * sin(h * ph[v]) / h;
        }
        seed = seed * 1103515245u + 12345u;
        s += 0.002 * ((double)(seed >> 16 & 0x7fff) / 16384.0 - 1.0);
        pcm[i] = (float)s;
    }
}

/* Encodes the whole input at one complexity; returns the encoder's CPU seconds and writes the
 * decoded signal to out (when out is not NULL). */
static double run(const float *in, int n, int cx, float *out)
{
    tf_opus_enc_config_t c;
    tf_opus_enc_config_default(&c);
    c.bitrate_bps = 32000;
    c.expected_loss_pct = 2;
    c.voice = 1;
    c.complexity = cx;
    tf_opus_enc_t *enc = NULL;
    tf_opus_dec_t *dec = NULL;
    int e = tf_opus_enc_create(&enc, &c);
    if (e < 0 || (out && (e = tf_opus_dec_create(&dec, 1)) < 0))
        die("cannot create the Opus encoder/decoder", e);
    double cpu = 0;
    uint8_t pkt[TF_OPUS_MAX_PACKET];
    for (int k = 0; k + FRAME <= n; k += FRAME) {
        double t0 = cpu_s();
        int len = tf_opus_enc_encode(enc, in + k, pkt, sizeof(pkt));
        cpu += cpu_s() - t0;
        if (len < 0)
            die("encode failed", len);
        if (out && (e = tf_opus_dec_decode(dec, pkt, (size_t)len, 0, out + k, FRAME)) != FRAME)
            die("decode failed", e);
    }
    tf_opus_enc_destroy(&enc);
    tf_opus_dec_destroy(&dec);
    return cpu;
}

/* The codec delay: the shift of out against in (0..MAX_DELAY samples) with the best correlation. */
static int delay_of(const float *in, const float *out, int n)
{
    int best_d = 0;
    double best = -1e30;
    for (int d = 0; d < MAX_DELAY; d++) {
        double c = 0;
        for (int i = TF_OPUS_RATE / 2; i + d < n; i++)
            c += (double)in[i] * out[i + d];
        if (c > best) {
            best = c;
            best_d = d;
        }
    }
    return best_d;
}

/* Power at f Hz of a Hann-windowed 20 ms frame (Goertzel). */
static double band_power(const float *x, double f)
{
    double w = 2 * M_PI * f / TF_OPUS_RATE, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < FRAME; i++) {
        double win = 0.5 - 0.5 * cos(2 * M_PI * i / (FRAME - 1));
        double s0 = x[i] * win + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/* Log-spectral distance in dB between in and out (delay-aligned): per 20 ms frame, the RMS over
 * 40 log-spaced frequencies from 100 Hz to 8 kHz of the level difference, averaged over frames.
 * Phase-blind, so it suits a codec that does not keep the waveform (SILK/hybrid). Lower is
 * closer; the default complexity's figure is the reference. */
static double lsd_db(const float *in, const float *out, int n, int delay)
{
    double sum = 0;
    int frames = 0;
    for (int k = TF_OPUS_RATE / 2; k + FRAME + delay <= n; k += FRAME) {
        double d2 = 0;
        for (int b = 0; b < 40; b++) {
            double f = 100.0 * pow(80.0, b / 39.0);
            double pi = band_power(in + k, f) + 1e-9, po = band_power(out + k + delay, f) + 1e-9;
            d2 += pow(10 * log10(pi / po), 2);
        }
        sum += sqrt(d2 / 40);
        frames++;
    }
    return frames ? sum / frames : 0;
}

int main(int argc, char **argv)
{
    int rounds = 5;
    double seconds = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            rounds = 1;
            seconds = 1;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_opus [--quick] [--rounds R] [--seconds S]\n");
            return 2;
        }
    }
    if (rounds < 1 || seconds < 1)
        die("rounds and seconds must be at least 1", -EINVAL);
    int n = (int)(seconds * TF_OPUS_RATE) / FRAME * FRAME;
    float *in = malloc(sizeof(float) * (size_t)n), *out = calloc((size_t)n, sizeof(float));
    if (!in || !out)
        die("out of memory", -ENOMEM);
    make_mix(in, n);

    double cpu[N_CX] = {0}, lsd[N_CX];
    int delay = 0;
    for (int c = 0; c < N_CX; c++) {
        run(in, n, complexities[c], out);
        if (c == 0)
            delay = delay_of(in, out, n);
        lsd[c] = lsd_db(in, out, n, delay);
    }
    for (int r = 0; r < rounds; r++) { /* interleaved: the machine's noise hits every column */
        fprintf(stderr, "\rbench_opus: round %d/%d", r + 1, rounds);
        for (int c = 0; c < N_CX; c++)
            cpu[c] += run(in, n, complexities[c], NULL);
    }
    fprintf(stderr, "\n");
    printf("Opus encoder as a room mix's (mono, 20 ms, 32 kbit/s, voice, FEC): %g s of a "
           "two-talker mix, %d interleaved rounds\n\n",
           seconds, rounds);
    printf("| complexity | encoder CPU ÷ default | real-time share of one core | log-spectral distance dB |\n");
    printf("|---|---:|---:|---:|\n");
    for (int c = 0; c < N_CX; c++) {
        char name[16];
        snprintf(name, sizeof(name), complexities[c] < 0 ? "default" : "%d", complexities[c]);
        printf("| %s | %.2f | %.2f %% | %.2f |\n", name, cpu[c] / cpu[0],
               100.0 * cpu[c] / (rounds * seconds), lsd[c]);
    }
    free(in);
    free(out);
    return 0;
}
