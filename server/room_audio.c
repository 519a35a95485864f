/* room_audio.c — the room's sound: a small jitter buffer and Opus decoder per sender, the mixer
 * (K loudest, mix-minus), one Opus encoder per distinct mix, per-receiver RTP. No video here. */
#include "server/room_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define START_PACKETS 3 /* 60 ms buffered before playout starts */
#define MAX_PACKETS 10  /* above 200 ms buffered, the oldest packets are skipped */
#define MAX_EXPAND 25   /* 500 ms of concealment without packets: stop and rebuffer */
#define QUIET_DBOV (-55) /* RFC 6464 levels below this are not worth decoding (MEDIA-NOTES) */
/* A mix's encoder at complexity 5 costs 0.48 of libopus's default (9) for +0.09 dB log-spectral
 * distance on a two-talker mix (bench/bench_opus); a room runs several of them. */
#define MIX_COMPLEXITY 5
#define LOUD_HOLD_US 600000 /* keep decoding this long after the last louder packet */
/* The loss hint of a mix encoder: libopus 1.3.1 emits in-band FEC (LBRR) for voice at these
 * rates only from a ~10 % hint (test_opus), so 10 % is the floor; above it the hint follows the
 * worst measured downstream loss of the encoder's receivers (10 % + 3 × it), up to 25 %:
 * stronger LBRR, kept at lower rates (test_opus: >= 99 % of frames at 2 % and 5 % loss). */
#define LOSS_HINT_MIN 10
#define LOSS_HINT_MAX 25

int tf__room_audio_join(tf_room_t *r, member_t *m)
{
    if (!m->info.audio.present)
        return 0;
    if (m->info.audio.sends && m->info.audio.codec == TF_SDP_CODEC_OPUS) {
        int e = tf_opus_dec_create(&m->adec, 1);
        if (e < 0)
            return e;
        return tf_amix_add(r->amix, m->slot);
    }
    return 0;
}

void tf__room_audio_leave(tf_room_t *r, member_t *m)
{
    if (m->adec) {
        tf_amix_remove(r->amix, m->slot);
        tf_opus_dec_destroy(&m->adec);
    }
}

void tf__room_audio_free(tf_room_t *r)
{
    for (int i = 0; i < MAX_AUDIO_ENC; i++) {
        tf_opus_enc_destroy(&r->aenc[i].enc);
        memset(&r->aenc[i], 0, sizeof(r->aenc[i]));
    }
}

/* A muted microphone: what was buffered must not play either; the next packet starts over. */
void tf__room_audio_reset(member_t *m)
{
    memset(m->jit, 0, sizeof(m->jit));
    m->jit_started = m->jit_playing = 0;
    m->pcm_len = 0;
    m->expand = 0;
}

void tf__room_audio_rtp(tf_room_t *r, member_t *m, const tf_rtp_packet_t *p)
{
    if (!m->adec || p->payload_len == 0 || p->payload_len > sizeof(m->jit[0].data))
        return;
    if (MIC_OFF(m))
        return; /* muted: enters no mix (enforced here, whatever the browser still sends) */
    if (!m->audio_ssrc)
        m->audio_ssrc = m->info.audio.in_ssrc ? m->info.audio.in_ssrc : p->ssrc;
    if (p->ssrc != m->audio_ssrc) {
        r->stats.malformed_in++; /* a stray packet must not reset this sender's stream */
        return;
    }
    uint8_t id = m->info.audio.ext[TF_SDP_EXT_AUDIO_LEVEL];
    bool voice;
    uint8_t dbov;
    if (id && tf_rtp_get_audio_level(p, id, &voice, &dbov) == 0) {
        m->level = -(int)dbov;
        if (m->level >= QUIET_DBOV)
            m->loud_until_us = r->now_us + LOUD_HOLD_US;
    }
    if (!m->jit_started) {
        m->jit_started = 1;
        m->jit_next = p->seq;
    }
    uint16_t ahead = (uint16_t)(p->seq - m->jit_next);
    uint16_t behind = (uint16_t)(m->jit_next - p->seq);
    if (tf_rtp_seq_newer(m->jit_next, p->seq) && behind < 4 * AUDIO_JITTER)
        return; /* late: its time has passed */
    if (tf_rtp_seq_newer(m->jit_next, p->seq))
        ahead = AUDIO_JITTER; /* far behind: the sender restarted its numbering */
    if (ahead >= AUDIO_JITTER) { /* far ahead (a long gap): start over from this packet */
        memset(m->jit, 0, sizeof(m->jit));
        m->jit_next = p->seq;
        m->jit_playing = 0;
    }
    jitter_slot_t *s = &m->jit[p->seq % AUDIO_JITTER];
    s->valid = 1;
    s->seq = p->seq;
    s->len = (uint16_t)p->payload_len;
    memcpy(s->data, p->payload, p->payload_len);
}

static int buffered(const member_t *m, int *newer)
{
    int n = 0;
    *newer = 0;
    for (int i = 0; i < AUDIO_JITTER; i++) {
        if (!m->jit[i].valid)
            continue;
        n++;
        if (!tf_rtp_seq_newer(m->jit_next, m->jit[i].seq))
            *newer = 1;
    }
    return n;
}

/* Decodes until one 20 ms frame is ready; conceals a lost packet when a later one is there. */
static int pull_frame(member_t *m)
{
    int newer = 0;
    if (!m->jit_playing) {
        if (buffered(m, &newer) < START_PACKETS)
            return 0;
        m->jit_playing = 1;
    }
    /* Too much delay built up (a burst after a stall): skip the oldest packets. */
    while (buffered(m, &newer) > MAX_PACKETS) {
        m->jit[m->jit_next % AUDIO_JITTER].valid = 0;
        m->jit_next++;
    }
    while (m->pcm_len < TF_AMIX_FRAME) {
        jitter_slot_t *s = &m->jit[m->jit_next % AUDIO_JITTER];
        int n;
        if (s->valid && s->seq == m->jit_next) {
            n = tf_opus_dec_decode(m->adec, s->data, s->len, 0, m->pcm + m->pcm_len, 5760);
            s->valid = 0;
            m->jit_next++;
            m->expand = 0;
        } else if (buffered(m, &newer), newer) {
            /* A lost packet: the next one's in-band FEC rebuilds it when there is some. */
            jitter_slot_t *nx = &m->jit[(uint16_t)(m->jit_next + 1) % AUDIO_JITTER];
            int fec = nx->valid && nx->seq == (uint16_t)(m->jit_next + 1);
            n = tf_opus_dec_decode(m->adec, fec ? nx->data : NULL, fec ? nx->len : 0, fec,
                                   m->pcm + m->pcm_len, TF_AMIX_FRAME);
            m->audio_plc++;
            m->jit_next++;
        } else if (++m->expand <= MAX_EXPAND) {
            /* Late, not lost (yet): conceal without moving on, so it still plays when it comes. */
            n = tf_opus_dec_decode(m->adec, NULL, 0, 0, m->pcm + m->pcm_len, TF_AMIX_FRAME);
            m->audio_plc++;
        } else {
            m->jit_playing = 0; /* the sender stopped: rebuffer when it is back */
            m->expand = 0;
            return 0;
        }
        if (n > 0)
            m->pcm_len += n;
    }
    return 1;
}

/* The Opus settings a receiver's tier calls for: on the lowest tiers longer packets halve the
 * header overhead (20 ms packets of 24 kbit/s Opus cost ~50 kbit/s on the wire). */
static int audio_profile(const member_t *m)
{
    return m->tier == TF_TIER_AUDIO ? 2 : m->tier == TF_TIER_LOW ? 1 : 0;
}

static audio_enc_t *encoder_for(tf_room_t *r, int mix_id, int profile)
{
    static const struct {
        int bps, ms;
    } prof[AUDIO_PROFILES] = {{32000, 20}, {24000, 40}, {16000, 60}};
    audio_enc_t *free_slot = NULL;
    for (int i = 0; i < MAX_AUDIO_ENC; i++) {
        if (r->aenc[i].used && r->aenc[i].mix_id == mix_id && r->aenc[i].profile == profile) {
            r->aenc[i].last_tick = r->audio_ticks;
            return &r->aenc[i];
        }
        if (!r->aenc[i].used && !free_slot)
            free_slot = &r->aenc[i];
    }
    if (!free_slot)
        return NULL;
    tf_opus_enc_config_t c;
    tf_opus_enc_config_default(&c);
    c.bitrate_bps = prof[profile].bps;
    c.frame_ms = prof[profile].ms;
    c.expected_loss_pct = LOSS_HINT_MIN;
    c.voice = 1; /* a class talks: SILK/hybrid, whose in-band FEC CELT lacks (even for a tone) */
    c.complexity = MIX_COMPLEXITY;
    if (tf_opus_enc_create(&free_slot->enc, &c) < 0)
        return NULL;
    free_slot->used = 1;
    free_slot->mix_id = mix_id;
    free_slot->profile = profile;
    free_slot->loss_pct = LOSS_HINT_MIN;
    free_slot->frame = tf_opus_enc_frame_samples(free_slot->enc);
    free_slot->buf_len = 0;
    free_slot->tick = 0;
    free_slot->last_tick = r->audio_ticks;
    return free_slot;
}

/* Adds this tick's PCM once per encoder; encodes when a packet's worth is gathered. */
static void feed(tf_room_t *r, audio_enc_t *enc, const float *pcm, uint32_t ts)
{
    if (enc->tick == r->audio_ticks)
        return;
    enc->tick = r->audio_ticks;
    if (enc->buf_len == 0)
        enc->first_ts = ts;
    memcpy(enc->buf + enc->buf_len, pcm, sizeof(float) * TF_AMIX_FRAME);
    enc->buf_len += TF_AMIX_FRAME;
    if (enc->buf_len < enc->frame)
        return;
    int n = tf_opus_enc_encode(enc->enc, enc->buf, enc->packet, sizeof(enc->packet));
    enc->len = n > 2 ? n : 0; /* 1-2 bytes: DTX, nothing to send */
    enc->packet_ts = enc->first_ts;
    enc->buf_len = 0;
}

static void announce_speaker(tf_room_t *r)
{
    int active = tf_amix_active_speaker(r->amix);
    if (active == r->active_speaker)
        return;
    r->active_speaker = active;
    r->layout_dirty = 1;
    member_t *m = active >= 0 ? r->members[active] : NULL;
    char *json = malloc(96);
    if (json)
        snprintf(json, 96, "{\"type\": \"active-speaker\", \"id\": %u}", m ? m->info.id : 0);
    tf__room_event(r, 0, json);
}

/* A sender whose RFC 6464 levels say it is quiet is not decoded: its packets are consumed in
 * order and it counts as silent, so a class of thirty decodes its few speakers, not thirty. */
static int skip_quiet(tf_room_t *r, member_t *m)
{
    if (m->level == 1 || r->now_us < m->loud_until_us)
        return 0; /* no level extension, or recently loud: decode */
    int newer;
    if (!m->jit_playing && buffered(m, &newer) < START_PACKETS)
        return 1;
    m->jit_playing = 1;
    jitter_slot_t *s = &m->jit[m->jit_next % AUDIO_JITTER];
    if (s->valid && s->seq == m->jit_next) {
        s->valid = 0;
        m->jit_next++;
    } else if (buffered(m, &newer), newer) {
        m->jit_next++;
    }
    m->pcm_len = 0;
    m->audio_skipped++;
    return 1;
}

void tf__room_audio_tick(tf_room_t *r, uint64_t tick_us)
{
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (!m || !m->adec || skip_quiet(r, m) || !pull_frame(m))
            continue;
        tf_amix_put(r->amix, m->slot, m->pcm, m->level);
        m->pcm_len -= TF_AMIX_FRAME;
        memmove(m->pcm, m->pcm + TF_AMIX_FRAME, sizeof(float) * (size_t)m->pcm_len);
    }
    tf_amix_run(r->amix);
    announce_speaker(r);
    r->audio_ticks++;
    for (int i = 0; i < MAX_AUDIO_ENC; i++)
        r->aenc[i].len = 0;
    uint32_t ts = (uint32_t)tf__room_media_clock(tick_us, 48000);
    for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
        member_t *m = r->members[i];
        if (!m || !m->info.audio.receives || m->info.audio.codec != TF_SDP_CODEC_OPUS)
            continue;
        int mix_id = 0;
        const float *pcm = m->adec ? tf_amix_output(r->amix, m->slot, &mix_id) : NULL;
        if (!pcm) {
            pcm = tf_amix_full_mix(r->amix);
            mix_id = 0;
        }
        audio_enc_t *enc = encoder_for(r, mix_id, audio_profile(m));
        if (!enc)
            continue;
        feed(r, enc, pcm, ts);
        if (!enc->len)
            continue; /* no packet completed this tick */
        uint8_t out[1500];
        size_t len = tf__room_marshal(r, m, &m->info.audio, m->info.audio.out_ssrc,
                                      (uint8_t)m->info.audio.pt, m->aseq++,
                                      enc->packet_ts + m->ts_offset, 0, enc->packet,
                                      (size_t)enc->len, out, sizeof(out));
        if (len) {
            m->a_packets++;
            m->a_octets += (uint64_t)enc->len;
            tf__room_emit(r, m->info.id, 0, out, len);
        }
    }
    /* Each encoder's loss hint from its receivers' smoothed loss (once a second). */
    if (r->audio_ticks % 50 == 0) {
        double worst[MAX_AUDIO_ENC] = {0};
        for (int i = 0; i < TF_ROOM_MAX_MEMBERS; i++) {
            member_t *m = r->members[i];
            if (!m || !m->bwe || !m->info.audio.receives)
                continue;
            int mix_id = 0;
            if (!m->adec || !tf_amix_output(r->amix, m->slot, &mix_id))
                mix_id = 0;
            tf_bwe_state_t st;
            tf_bwe_get_state(m->bwe, &st);
            for (int k = 0; k < MAX_AUDIO_ENC; k++)
                if (r->aenc[k].used && r->aenc[k].mix_id == mix_id &&
                    r->aenc[k].profile == audio_profile(m) && st.loss_fraction > worst[k])
                    worst[k] = st.loss_fraction;
        }
        for (int k = 0; k < MAX_AUDIO_ENC; k++) {
            int pct = LOSS_HINT_MIN + (int)(300 * worst[k] + 0.5);
            pct = pct < LOSS_HINT_MIN ? LOSS_HINT_MIN : pct > LOSS_HINT_MAX ? LOSS_HINT_MAX : pct;
            if (r->aenc[k].used && pct != r->aenc[k].loss_pct &&
                tf_opus_enc_set_expected_loss(r->aenc[k].enc, pct) == 0)
                r->aenc[k].loss_pct = pct;
        }
    }
    /* Encoders nobody has listened to for a second (a mix that ended, a room emptied) go. */
    for (int i = 0; i < MAX_AUDIO_ENC; i++) {
        audio_enc_t *e = &r->aenc[i];
        if (e->used && r->audio_ticks - e->last_tick > 50) {
            tf_opus_enc_destroy(&e->enc);
            memset(e, 0, sizeof(*e));
        }
    }
}
