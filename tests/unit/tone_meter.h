/* tone_meter.h — the amplitude of one frequency in 48 kHz PCM (Goertzel), as the audio tests
 * and tafel-load's tone detector measure it. Header-only; no allocation. */
#ifndef TF_TESTS_TONE_METER_H
#define TF_TESTS_TONE_METER_H

#include <math.h>

/* Peak amplitude of the hz component of pcm[0..n) at 48 kHz (a sine of amplitude a gives ~a when
 * n holds whole periods of it). */
static inline double tone_meter_amplitude(const float *pcm, int n, double hz)
{
    double w = 2.0 * M_PI * hz / 48000.0, c = 2.0 * cos(w), s1 = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double s0 = pcm[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double power = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 2.0 * sqrt(power > 0 ? power : 0) / n;
}

#endif
