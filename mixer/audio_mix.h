/* audio_mix.h — a room's audio: mix-minus of the K loudest speakers, active speaker, limiter.
 *
 * 48 kHz mono float, 20 ms ticks (960 samples). Each tick the caller puts in the frame of every
 * participant that has one, runs the mixer, and reads the outputs: the K loudest speakers each
 * get "everything but me", everyone else shares one "everything" mix — so a room needs K+1 audio
 * encodes, not N. Sums go through a soft limiter; nothing wraps or hard-clips. No clock here. */
#ifndef TF_AUDIO_MIX_H
#define TF_AUDIO_MIX_H

#include <stdint.h>

#define TF_AMIX_FRAME 960      /* samples per 20 ms tick at 48 kHz */
#define TF_AMIX_MAX_INPUTS 256
#define TF_AMIX_MAX_SPEAKERS 16 /* the largest K */

typedef struct tf_amix_config {
    int max_speakers;     /* K, loudest inputs mixed, 1..16; default 3 when 0 */
    int hangover_ms;      /* a speaker stays "speaking" this long after falling silent; 0: 400 */
    float speech_dbov;    /* level above which an input counts as speaking; 0: -45 dBov */
} tf_amix_config_t;

typedef struct tf_amix tf_amix_t;

/* cfg may be NULL (all defaults). 0, -EINVAL or -ENOMEM. All memory is allocated here and in
 * tf_amix_add(); a tick allocates nothing. */
int tf_amix_create(tf_amix_t **out, const tf_amix_config_t *cfg);
void tf_amix_destroy(tf_amix_t **m);

/* Participants are small integer ids 0..TF_AMIX_MAX_INPUTS-1. add: 0, -EINVAL, -EEXIST or
 * -ENOMEM; remove: 0, -EINVAL or -ENOENT. Either may be called between any two ticks. */
int tf_amix_add(tf_amix_t *m, int id);
int tf_amix_remove(tf_amix_t *m, int id);

/* This tick's frame of participant id (TF_AMIX_FRAME samples, copied; NaN/inf become 0).
 * level_dbov is the RFC 6464 level the sender signalled (0..-127), or 1 when unknown (then the
 * frame's RMS is measured in dBov). A participant without a frame this tick is silent. 0,
 * -EINVAL or -ENOENT. */
int tf_amix_put(tf_amix_t *m, int id, const float *pcm, int level_dbov);

/* Mixes this tick and clears the inputs for the next. Speaking: level above speech_dbov, and
 * for hangover_ms after. Mixed: the K speaking participants with the highest smoothed level
 * (one already mixed stays unless another is 3 dB louder). Each mix goes through a limiter
 * (gain stage at -4 dBFS, 1 ms attack, 100 ms release, then a tanh-like knee above -3 dBFS),
 * so output samples stay inside (-1, 1) without flat-topping. */
int tf_amix_run(tf_amix_t *m);

/* What participant id hears this tick: a pointer to TF_AMIX_FRAME samples valid until the next
 * tf_amix_run, and *mix_id identifying the mix (equal ids = identical PCM, share an encoder):
 * 0 is the shared full mix, 1..K a speaker's mix-minus. A speaker keeps its mix id for as long
 * as it stays mixed. Unknown id: NULL and *mix_id = -1. Before the first tick: silence. */
const float *tf_amix_output(tf_amix_t *m, int id, int *mix_id);

/* The shared full mix, and the number of distinct mixes produced this tick (<= K+1). */
const float *tf_amix_full_mix(tf_amix_t *m);
int tf_amix_mix_count(const tf_amix_t *m);

/* The active (dominant) speaker, or -1 when nobody speaks. Changes with hysteresis: another
 * speaker takes over only after being 2 dB louder (smoothed) for 300 ms in a row; when the
 * active speaker's hangover ends, the loudest one still speaking takes over at once. */
int tf_amix_active_speaker(const tf_amix_t *m);

/* Participant id's smoothed level in dBov as used for ranking (-127 for silence or unknown);
 * for level meters and tests. */
float tf_amix_level(const tf_amix_t *m, int id);

#endif
