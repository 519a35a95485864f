/* opus.h — Opus encode/decode at 48 kHz on libopus: float PCM in and out, interleaved.
 *
 * No RTP here (the RFC 7587 payload is the packet itself). One caller at a time per object. */
#ifndef TF_OPUS_H
#define TF_OPUS_H

#include <stddef.h>
#include <stdint.h>

#define TF_OPUS_RATE 48000
#define TF_OPUS_MAX_PACKET 1500

typedef struct tf_opus_enc_config {
    int channels;          /* 1 or 2 */
    int bitrate_bps;       /* e.g. 24000 */
    int frame_ms;          /* 20 (default when 0), 40 or 60 */
    int inband_fec;        /* 1: in-band FEC (needs expected_loss_pct > 0 to matter) */
    int expected_loss_pct; /* 0..100, fed from measured loss at run time */
    int dtx;               /* 1: discontinuous transmission in silence */
    int voice;             /* 1: tell libopus the signal is speech (OPUS_SIGNAL_VOICE): it then
                            * keeps SILK/hybrid, the modes that carry in-band FEC, even for tonal
                            * input it would otherwise code with CELT (no FEC); 0: auto */
    int complexity;        /* 0..10 (OPUS_SET_COMPLEXITY); -1: libopus's default */
} tf_opus_enc_config_t;

/* voice defaults: mono, 24 kbit/s, 20 ms, FEC on with 5 % expected loss, DTX off, libopus's
 * default complexity. */
void tf_opus_enc_config_default(tf_opus_enc_config_t *cfg);

typedef struct tf_opus_enc tf_opus_enc_t;

int tf_opus_enc_create(tf_opus_enc_t **out, const tf_opus_enc_config_t *cfg);
void tf_opus_enc_destroy(tf_opus_enc_t **enc);

/* Samples per channel in one frame (960 for 20 ms). */
int tf_opus_enc_frame_samples(const tf_opus_enc_t *enc);

/* Encodes one frame of interleaved float PCM (-1..1). Returns the packet size (1 or 2 bytes
 * means a DTX frame that need not be sent), or -ENOBUFS / -EIO. */
int tf_opus_enc_encode(tf_opus_enc_t *enc, const float *pcm, uint8_t *out, size_t cap);

int tf_opus_enc_set_bitrate(tf_opus_enc_t *enc, int bitrate_bps);
int tf_opus_enc_set_expected_loss(tf_opus_enc_t *enc, int pct);

typedef struct tf_opus_dec tf_opus_dec_t;

int tf_opus_dec_create(tf_opus_dec_t **out, int channels);
void tf_opus_dec_destroy(tf_opus_dec_t **dec);

/* Decodes one packet into interleaved float PCM; returns samples per channel or a negative
 * errno. packet == NULL conceals one lost frame of frame_samples (PLC); with use_fec = 1 the
 * packet is the one *after* a loss and its FEC data rebuilds the lost frame. */
int tf_opus_dec_decode(tf_opus_dec_t *dec, const uint8_t *packet, size_t len, int use_fec,
                       float *pcm, int frame_samples);

#endif
