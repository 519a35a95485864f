/* audio_mix.c — mix-minus of the K loudest, limiter, active speaker; no decoding, no clock. */
#include "mixer/audio_mix.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TICK_MS 20
#define SAMPLE_RATE 48000
#define SILENCE_DBOV -127.0f

/* Ranking inputs: the smoothed level rises quickly and falls slowly (per tick, in dB). */
#define LEVEL_ATTACK 0.6f
#define LEVEL_RELEASE 0.15f
/* A mixed speaker keeps its place among the K unless someone is this much louder, so the set
 * does not flap when two voices are about as loud. */
#define SELECT_STICKINESS_DB 3.0f
/* The dominant speaker changes when another one is louder by this margin for HOLD_MS. */
#define SWITCH_MARGIN_DB 2.0f
#define HOLD_MS 300

/* Limiter, without look-ahead: a peak envelope (instant rise, held for HOLD_PEAK_MS — longer
 * than a voice's pitch period or a tone mix's beat — then a RELEASE_MS decay) sets the gain
 * that keeps peaks at LIMIT_CEILING (-4 dBFS); the gain itself moves with a GAIN_SMOOTH_MS time
 * constant so it never steps. Whatever overshoots while the gain is still falling goes through
 * a soft, tanh-like knee above KNEE (-3 dBFS) that approaches 1.0 but does not reach it. */
#define LIMIT_CEILING 0.631f
#define KNEE 0.708f
#define GAIN_SMOOTH_MS 1.0
#define HOLD_PEAK_MS 20
#define RELEASE_MS 100.0

typedef struct limiter {
    float env;  /* peak envelope */
    int hold;   /* samples left before env may fall */
    float gain; /* applied gain */
} limiter_t;

typedef struct amix_input {
    float pcm[TF_AMIX_FRAME];
    int has_frame;
    int given_level; /* RFC 6464 level of this tick's frame, 1 when none */
    float level;     /* this tick's level, dBov */
    float smooth;    /* smoothed level, dBov, for ranking */
    int hang;        /* ticks this input still counts as speaking */
    int slot;        /* 1..K while mixed as a speaker, else 0 */
} amix_input_t;

struct tf_amix {
    int k;          /* max speakers mixed */
    int hang_ticks; /* hangover in ticks */
    float speech_dbov;
    float smooth, release; /* limiter coefficients per sample */
    int hold_samples;
    int mix_count;
    int active;     /* dominant speaker or -1 */
    int challenger; /* who is louder than the active speaker, or -1 */
    int challenger_ticks;
    amix_input_t *in[TF_AMIX_MAX_INPUTS];
    int slot_owner[TF_AMIX_MAX_SPEAKERS + 1]; /* [1..k]: input id, or -1; [0] unused */
    limiter_t lim[TF_AMIX_MAX_SPEAKERS + 1];  /* limiter state per mix, [0] the full mix */
    float (*mix)[TF_AMIX_FRAME];              /* k + 1 buffers, [0] the full mix */
};

int tf_amix_create(tf_amix_t **out, const tf_amix_config_t *cfg)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    tf_amix_config_t c = {0, 0, 0.0f};
    if (cfg)
        c = *cfg;
    if (c.max_speakers < 0 || c.max_speakers > TF_AMIX_MAX_SPEAKERS || c.hangover_ms < 0 ||
        c.hangover_ms > 60000 || !(c.speech_dbov <= 0.0f && c.speech_dbov >= -127.0f))
        return -EINVAL;

    tf_amix_t *m = calloc(1, sizeof(*m));
    if (!m)
        goto err;
    m->k = c.max_speakers ? c.max_speakers : 3;
    int hang_ms = c.hangover_ms ? c.hangover_ms : 400;
    m->hang_ticks = (hang_ms + TICK_MS - 1) / TICK_MS;
    m->speech_dbov = c.speech_dbov != 0.0f ? c.speech_dbov : -45.0f;
    m->smooth = (float)(1.0 - exp(-1.0 / (GAIN_SMOOTH_MS * SAMPLE_RATE / 1000.0)));
    m->release = (float)(1.0 - exp(-1.0 / (RELEASE_MS * SAMPLE_RATE / 1000.0)));
    m->hold_samples = HOLD_PEAK_MS * SAMPLE_RATE / 1000;
    m->active = -1;
    m->challenger = -1;
    for (int j = 0; j <= TF_AMIX_MAX_SPEAKERS; j++) {
        m->slot_owner[j] = -1;
        m->lim[j].gain = 1.0f;
    }
    m->mix = calloc((size_t)m->k + 1, sizeof(*m->mix));
    if (!m->mix)
        goto err;
    m->mix_count = 1;
    *out = m;
    return 0;
err:
    if (m)
        free(m->mix);
    free(m);
    return -ENOMEM;
}

void tf_amix_destroy(tf_amix_t **mp)
{
    if (!mp || !*mp)
        return;
    tf_amix_t *m = *mp;
    for (int i = 0; i < TF_AMIX_MAX_INPUTS; i++)
        free(m->in[i]);
    free(m->mix);
    free(m);
    *mp = NULL;
}

static int valid_id(int id)
{
    return id >= 0 && id < TF_AMIX_MAX_INPUTS;
}

int tf_amix_add(tf_amix_t *m, int id)
{
    if (!m || !valid_id(id))
        return -EINVAL;
    if (m->in[id])
        return -EEXIST;
    amix_input_t *in = calloc(1, sizeof(*in));
    if (!in)
        return -ENOMEM;
    in->given_level = 1;
    in->level = SILENCE_DBOV;
    in->smooth = SILENCE_DBOV;
    m->in[id] = in;
    return 0;
}

int tf_amix_remove(tf_amix_t *m, int id)
{
    if (!m || !valid_id(id))
        return -EINVAL;
    amix_input_t *in = m->in[id];
    if (!in)
        return -ENOENT;
    if (in->slot)
        m->slot_owner[in->slot] = -1;
    if (m->active == id)
        m->active = -1;
    if (m->challenger == id) {
        m->challenger = -1;
        m->challenger_ticks = 0;
    }
    free(in);
    m->in[id] = NULL;
    return 0;
}

int tf_amix_put(tf_amix_t *m, int id, const float *pcm, int level_dbov)
{
    if (!m || !valid_id(id) || !pcm || (level_dbov != 1 && (level_dbov > 0 || level_dbov < -127)))
        return -EINVAL;
    amix_input_t *in = m->in[id];
    if (!in)
        return -ENOENT;
    for (int s = 0; s < TF_AMIX_FRAME; s++)
        in->pcm[s] = isfinite(pcm[s]) ? pcm[s] : 0.0f; /* one NaN must not poison every mix */
    in->has_frame = 1;
    in->given_level = level_dbov;
    return 0;
}

/* RMS level in dBov (0 dBov: the RMS of a full-scale square wave, 1.0), as RFC 6464 counts. */
static float measure_dbov(const float *pcm)
{
    double sum = 0.0;
    for (int s = 0; s < TF_AMIX_FRAME; s++)
        sum += (double)pcm[s] * pcm[s];
    double ms = sum / TF_AMIX_FRAME;
    if (ms < 1e-13)
        return SILENCE_DBOV;
    double db = 10.0 * log10(ms);
    return db > 0.0 ? 0.0f : (float)db;
}

static void update_levels(tf_amix_t *m)
{
    for (int id = 0; id < TF_AMIX_MAX_INPUTS; id++) {
        amix_input_t *in = m->in[id];
        if (!in)
            continue;
        if (!in->has_frame)
            in->level = SILENCE_DBOV;
        else if (in->given_level != 1)
            in->level = (float)in->given_level;
        else
            in->level = measure_dbov(in->pcm);
        float k = in->level > in->smooth ? LEVEL_ATTACK : LEVEL_RELEASE;
        in->smooth += k * (in->level - in->smooth);
        if (in->level > m->speech_dbov)
            in->hang = m->hang_ticks + 1; /* this tick, then hangover_ms of silence */
        else if (in->hang > 0)
            in->hang--;
    }
}

/* Chooses the K loudest speaking inputs. Those already mixed keep their slot (and so their mix
 * id and its encoder); newcomers take free slots and start from the full mix's limiter gain. */
static void select_speakers(tf_amix_t *m)
{
    int chosen[TF_AMIX_MAX_SPEAKERS];
    int n_chosen = 0;
    for (int round = 0; round < m->k; round++) {
        int best = -1;
        float best_key = 0.0f;
        for (int id = 0; id < TF_AMIX_MAX_INPUTS; id++) {
            amix_input_t *in = m->in[id];
            if (!in || in->hang == 0)
                continue;
            int taken = 0;
            for (int c = 0; c < n_chosen; c++)
                taken |= chosen[c] == id;
            if (taken)
                continue;
            float key = in->smooth + (in->slot ? SELECT_STICKINESS_DB : 0.0f);
            if (best < 0 || key > best_key) {
                best = id;
                best_key = key;
            }
        }
        if (best < 0)
            break;
        chosen[n_chosen++] = best;
    }

    for (int j = 1; j <= m->k; j++) {
        int owner = m->slot_owner[j], keep = 0;
        for (int c = 0; c < n_chosen && owner >= 0; c++)
            keep |= chosen[c] == owner;
        if (owner >= 0 && !keep) {
            m->in[owner]->slot = 0;
            m->slot_owner[j] = -1;
        }
    }
    for (int c = 0; c < n_chosen; c++) {
        amix_input_t *in = m->in[chosen[c]];
        if (in->slot)
            continue;
        for (int j = 1; j <= m->k; j++) {
            if (m->slot_owner[j] < 0) {
                m->slot_owner[j] = chosen[c];
                in->slot = j;
                m->lim[j] = m->lim[0];
                break;
            }
        }
    }
    m->mix_count = 1 + n_chosen;
}

/* Linear up to KNEE, then KNEE + (1 - KNEE) * d / (1 + d) with d the overshoot in units of the
 * headroom: slope 1 at the knee like tanh, but approaching 1.0 so slowly that distinct inputs
 * stay distinct samples (tanhf rounds to exactly 1.0 from an overshoot of about 9). */
static float soft_knee(float v)
{
    float a = fabsf(v);
    if (a <= KNEE)
        return v;
    float d = (a - KNEE) / (1.0f - KNEE);
    float y = KNEE + (1.0f - KNEE) * (d / (1.0f + d));
    return v < 0.0f ? -y : y;
}

/* In steady state the held envelope is the signal's peak, so the gain is constant across a
 * pitch period and the stage adds next to no distortion; only onsets reach the knee. */
static void limit(const tf_amix_t *m, limiter_t *l, float *buf)
{
    float env = l->env, g = l->gain;
    int hold = l->hold;
    for (int s = 0; s < TF_AMIX_FRAME; s++) {
        float a = fabsf(buf[s]);
        if (a >= env) {
            env = a;
            hold = m->hold_samples;
        } else if (hold > 0) {
            hold--;
        } else {
            env += m->release * (a - env);
        }
        float target = env > LIMIT_CEILING ? LIMIT_CEILING / env : 1.0f;
        g += m->smooth * (target - g);
        buf[s] = soft_knee(buf[s] * g);
    }
    l->env = env;
    l->hold = hold;
    l->gain = g;
}

/* Sums every mixed speaker but `except` (-1: none) into out. */
static void sum_speakers(const tf_amix_t *m, int except, float *out)
{
    memset(out, 0, sizeof(float) * TF_AMIX_FRAME);
    for (int j = 1; j <= m->k; j++) {
        int id = m->slot_owner[j];
        if (id < 0 || id == except || !m->in[id]->has_frame)
            continue;
        const float *pcm = m->in[id]->pcm;
        for (int s = 0; s < TF_AMIX_FRAME; s++)
            out[s] += pcm[s];
    }
}

static int loudest_speaking(const tf_amix_t *m, int except)
{
    int best = -1;
    for (int id = 0; id < TF_AMIX_MAX_INPUTS; id++) {
        const amix_input_t *in = m->in[id];
        if (in && in->hang > 0 && id != except && (best < 0 || in->smooth > m->in[best]->smooth))
            best = id;
    }
    return best;
}

/* Dominant speaker: while the active one speaks, another takes over only after being louder by
 * SWITCH_MARGIN_DB for HOLD_MS without a break; when the active one has fallen silent (its
 * hangover over), the loudest one speaking takes over at once, or nobody. */
static void update_active(tf_amix_t *m)
{
    if (m->active < 0 || m->in[m->active]->hang == 0) {
        m->active = loudest_speaking(m, -1);
        m->challenger = -1;
        m->challenger_ticks = 0;
        return;
    }
    int c = loudest_speaking(m, m->active);
    if (c < 0 || m->in[c]->smooth <= m->in[m->active]->smooth + SWITCH_MARGIN_DB) {
        m->challenger = -1;
        m->challenger_ticks = 0;
        return;
    }
    if (c != m->challenger) {
        m->challenger = c;
        m->challenger_ticks = 0;
    }
    if (++m->challenger_ticks * TICK_MS >= HOLD_MS) {
        m->active = c;
        m->challenger = -1;
        m->challenger_ticks = 0;
    }
}

int tf_amix_run(tf_amix_t *m)
{
    if (!m)
        return -EINVAL;
    update_levels(m);
    select_speakers(m);

    sum_speakers(m, -1, m->mix[0]);
    limit(m, &m->lim[0], m->mix[0]);
    for (int j = 1; j <= m->k; j++) {
        if (m->slot_owner[j] < 0)
            continue;
        sum_speakers(m, m->slot_owner[j], m->mix[j]);
        limit(m, &m->lim[j], m->mix[j]);
    }

    update_active(m);
    for (int id = 0; id < TF_AMIX_MAX_INPUTS; id++) {
        if (m->in[id]) {
            m->in[id]->has_frame = 0;
            m->in[id]->given_level = 1;
        }
    }
    return 0;
}

const float *tf_amix_output(tf_amix_t *m, int id, int *mix_id)
{
    if (mix_id)
        *mix_id = -1;
    if (!m || !valid_id(id) || !m->in[id])
        return NULL;
    int slot = m->in[id]->slot;
    if (mix_id)
        *mix_id = slot;
    return m->mix[slot];
}

const float *tf_amix_full_mix(tf_amix_t *m)
{
    return m ? m->mix[0] : NULL;
}

int tf_amix_mix_count(const tf_amix_t *m)
{
    return m ? m->mix_count : 0;
}

int tf_amix_active_speaker(const tf_amix_t *m)
{
    return m ? m->active : -1;
}

/* The level used for ranking, for tests and the room's level meters. */
float tf_amix_level(const tf_amix_t *m, int id)
{
    if (!m || !valid_id(id) || !m->in[id])
        return SILENCE_DBOV;
    return m->in[id]->smooth;
}
