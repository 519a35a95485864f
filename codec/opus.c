/* opus.c — tf_opus_*: 48 kHz Opus on libopus's float API (VOIP mode, in-band FEC, DTX, PLC).
 *
 * No RTP, no jitter buffer, no resampling: the caller feeds whole frames at 48 kHz and decides
 * when a packet is lost. */
#include "codec/opus.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>

struct tf_opus_enc {
    OpusEncoder *enc;
    int channels;
    int frame_samples;
};

struct tf_opus_dec {
    OpusDecoder *dec;
    int channels;
};

static int errno_from_opus(int err)
{
    switch (err) {
    case OPUS_BAD_ARG:
        return -EINVAL;
    case OPUS_BUFFER_TOO_SMALL:
        return -ENOBUFS;
    case OPUS_INVALID_PACKET:
    case OPUS_INVALID_STATE:
        return -EPROTO;
    case OPUS_ALLOC_FAIL:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

void tf_opus_enc_config_default(tf_opus_enc_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->channels = 1;
    cfg->bitrate_bps = 24000;
    cfg->frame_ms = 20;
    cfg->inband_fec = 1;
    cfg->expected_loss_pct = 5;
    cfg->dtx = 0;
    cfg->complexity = -1;
}

int tf_opus_enc_create(tf_opus_enc_t **out, const tf_opus_enc_config_t *cfg)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg || (cfg->channels != 1 && cfg->channels != 2))
        return -EINVAL;
    int frame_ms = cfg->frame_ms ? cfg->frame_ms : 20;
    if (frame_ms != 20 && frame_ms != 40 && frame_ms != 60)
        return -EINVAL;
    if (cfg->bitrate_bps < 6000 || cfg->bitrate_bps > 510000 || cfg->expected_loss_pct < 0 ||
        cfg->expected_loss_pct > 100 || cfg->complexity < -1 || cfg->complexity > 10)
        return -EINVAL;

    tf_opus_enc_t *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->channels = cfg->channels;
    e->frame_samples = TF_OPUS_RATE / 1000 * frame_ms;
    int err = OPUS_OK;
    e->enc = opus_encoder_create(TF_OPUS_RATE, cfg->channels, OPUS_APPLICATION_VOIP, &err);
    if (!e->enc)
        goto err;
    /* FEC is only emitted when the encoder also expects loss (xiph/opus #446). */
    if ((err = opus_encoder_ctl(e->enc, OPUS_SET_BITRATE(cfg->bitrate_bps))) != OPUS_OK ||
        (err = opus_encoder_ctl(e->enc, OPUS_SET_INBAND_FEC(cfg->inband_fec ? 1 : 0))) != OPUS_OK ||
        (err = opus_encoder_ctl(e->enc, OPUS_SET_PACKET_LOSS_PERC(cfg->expected_loss_pct))) !=
            OPUS_OK ||
        (err = opus_encoder_ctl(e->enc, OPUS_SET_DTX(cfg->dtx ? 1 : 0))) != OPUS_OK ||
        (err = opus_encoder_ctl(
             e->enc, OPUS_SET_SIGNAL(cfg->voice ? OPUS_SIGNAL_VOICE : OPUS_AUTO))) != OPUS_OK ||
        (cfg->complexity >= 0 &&
         (err = opus_encoder_ctl(e->enc, OPUS_SET_COMPLEXITY(cfg->complexity))) != OPUS_OK))
        goto err;
    *out = e;
    return 0;
err:
    tf_opus_enc_destroy(&e);
    return errno_from_opus(err);
}

void tf_opus_enc_destroy(tf_opus_enc_t **enc)
{
    if (!enc || !*enc)
        return;
    opus_encoder_destroy((*enc)->enc);
    free(*enc);
    *enc = NULL;
}

int tf_opus_enc_frame_samples(const tf_opus_enc_t *enc)
{
    return enc ? enc->frame_samples : -EINVAL;
}

int tf_opus_enc_encode(tf_opus_enc_t *enc, const float *pcm, uint8_t *out, size_t cap)
{
    if (!enc || !pcm || !out || cap == 0)
        return -EINVAL;
    /* libopus fits the packet into cap (it lowers the rate if it must); it only fails when not
     * even the TOC byte and a minimal frame fit. */
    opus_int32 max = cap > TF_OPUS_MAX_PACKET ? TF_OPUS_MAX_PACKET : (opus_int32)cap;
    int n = opus_encode_float(enc->enc, pcm, enc->frame_samples, out, max);
    return n < 0 ? errno_from_opus(n) : n;
}

int tf_opus_enc_set_bitrate(tf_opus_enc_t *enc, int bitrate_bps)
{
    if (!enc || bitrate_bps < 6000 || bitrate_bps > 510000)
        return -EINVAL;
    int err = opus_encoder_ctl(enc->enc, OPUS_SET_BITRATE(bitrate_bps));
    return err == OPUS_OK ? 0 : errno_from_opus(err);
}

int tf_opus_enc_set_expected_loss(tf_opus_enc_t *enc, int pct)
{
    if (!enc || pct < 0 || pct > 100)
        return -EINVAL;
    int err = opus_encoder_ctl(enc->enc, OPUS_SET_PACKET_LOSS_PERC(pct));
    return err == OPUS_OK ? 0 : errno_from_opus(err);
}

int tf_opus_dec_create(tf_opus_dec_t **out, int channels)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (channels != 1 && channels != 2)
        return -EINVAL;
    tf_opus_dec_t *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->channels = channels;
    int err = OPUS_OK;
    d->dec = opus_decoder_create(TF_OPUS_RATE, channels, &err);
    if (!d->dec) {
        free(d);
        return errno_from_opus(err);
    }
    *out = d;
    return 0;
}

void tf_opus_dec_destroy(tf_opus_dec_t **dec)
{
    if (!dec || !*dec)
        return;
    opus_decoder_destroy((*dec)->dec);
    free(*dec);
    *dec = NULL;
}

int tf_opus_dec_decode(tf_opus_dec_t *dec, const uint8_t *packet, size_t len, int use_fec,
                       float *pcm, int frame_samples)
{
    if (!dec || !pcm || frame_samples <= 0 || len > INT_MAX)
        return -EINVAL;
    if (!packet) {
        /* Loss concealment: libopus extrapolates frame_samples (a multiple of 2.5 ms). */
        int n = opus_decode_float(dec->dec, NULL, 0, pcm, frame_samples, 0);
        return n < 0 ? errno_from_opus(n) : n;
    }
    /* With use_fec the LBRR data in this packet rebuilds the previous, lost frame; a packet
     * without LBRR gives plain concealment for that frame. */
    int n =
        opus_decode_float(dec->dec, packet, (opus_int32)len, pcm, frame_samples, use_fec ? 1 : 0);
    return n < 0 ? errno_from_opus(n) : n;
}
