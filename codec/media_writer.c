/* media_writer.c — muxes encoded H.264 (Annex-B) and Opus into Matroska or MP4 with
 * libavformat. No encoding here: packets come from tf_venc / tf_opus_enc. */
#include "codec/media_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

struct tf_media_writer {
    AVFormatContext *oc;
    AVStream *vst, *ast;
    AVPacket *pkt;
    int header_written;
    int first_error;
};

static int set_extradata(AVCodecParameters *par, const uint8_t *data, size_t size)
{
    par->extradata = av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return -ENOMEM;
    memcpy(par->extradata, data, size);
    par->extradata_size = (int)size;
    return 0;
}

/* RFC 7845 §5.1 identification header ("OpusHead"), which both containers carry. */
static void opus_head(uint8_t out[19], int channels, int preskip)
{
    memcpy(out, "OpusHead", 8);
    out[8] = 1;
    out[9] = (uint8_t)channels;
    out[10] = (uint8_t)(preskip & 0xff);
    out[11] = (uint8_t)(preskip >> 8);
    out[12] = 48000 & 0xff;
    out[13] = (48000 >> 8) & 0xff;
    out[14] = (48000 >> 16) & 0xff;
    out[15] = 0;
    out[16] = out[17] = 0; /* output gain */
    out[18] = 0;           /* channel mapping family 0 */
}

int tf_media_writer_open(tf_media_writer_t **out, const char *path,
                         const tf_media_writer_config_t *cfg, char *err, size_t errlen)
{
    *out = NULL;
    char eb[128];
    tf_media_writer_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    int e = avformat_alloc_output_context2(&w->oc, NULL, NULL, path);
    if (e < 0 || !w->oc) {
        snprintf(err, errlen, "%s: unknown container (use .mkv or .mp4)", path);
        e = -EINVAL;
        goto err;
    }
    w->vst = avformat_new_stream(w->oc, NULL);
    if (!w->vst) {
        e = -ENOMEM;
        goto err;
    }
    AVCodecParameters *vp = w->vst->codecpar;
    vp->codec_type = AVMEDIA_TYPE_VIDEO;
    vp->codec_id = AV_CODEC_ID_H264;
    vp->width = cfg->width;
    vp->height = cfg->height;
    vp->format = AV_PIX_FMT_YUV420P;
    w->vst->time_base = (AVRational){1, 90000};
    w->vst->avg_frame_rate = (AVRational){cfg->fps_num, cfg->fps_den};
    if (cfg->h264_headers_size && (e = set_extradata(vp, cfg->h264_headers,
                                                     cfg->h264_headers_size)) < 0)
        goto err;
    if (cfg->audio_channels > 0) {
        w->ast = avformat_new_stream(w->oc, NULL);
        if (!w->ast) {
            e = -ENOMEM;
            goto err;
        }
        AVCodecParameters *ap = w->ast->codecpar;
        ap->codec_type = AVMEDIA_TYPE_AUDIO;
        ap->codec_id = AV_CODEC_ID_OPUS;
        ap->sample_rate = 48000;
        av_channel_layout_default(&ap->ch_layout, cfg->audio_channels);
        ap->initial_padding = cfg->opus_preskip;
        w->ast->time_base = (AVRational){1, 48000};
        uint8_t head[19];
        opus_head(head, cfg->audio_channels, cfg->opus_preskip);
        if ((e = set_extradata(ap, head, sizeof(head))) < 0)
            goto err;
    }
    if (!(w->oc->oformat->flags & AVFMT_NOFILE)) {
        e = avio_open(&w->oc->pb, path, AVIO_FLAG_WRITE);
        if (e < 0) {
            snprintf(err, errlen, "%s: cannot create: %s", path, (av_strerror(e, eb, sizeof(eb)), eb));
            e = -EIO;
            goto err;
        }
    }
    e = avformat_write_header(w->oc, NULL);
    if (e < 0) {
        snprintf(err, errlen, "%s: cannot write header: %s", path,
                 (av_strerror(e, eb, sizeof(eb)), eb));
        e = -EIO;
        goto err;
    }
    w->header_written = 1;
    w->pkt = av_packet_alloc();
    if (!w->pkt) {
        e = -ENOMEM;
        goto err;
    }
    *out = w;
    return 0;
err:
    if (e == -ENOMEM)
        snprintf(err, errlen, "%s: out of memory", path);
    tf_media_writer_close(&w);
    return e;
}

static int write_packet(tf_media_writer_t *w, AVStream *st, const uint8_t *data, size_t size,
                        int64_t pts, AVRational tb, int64_t duration, int key)
{
    if (w->first_error)
        return w->first_error;
    AVPacket *p = w->pkt;
    if (av_new_packet(p, (int)size) < 0)
        return w->first_error = -ENOMEM;
    memcpy(p->data, data, size);
    p->stream_index = st->index;
    p->pts = p->dts = av_rescale_q(pts, tb, st->time_base);
    p->duration = av_rescale_q(duration, tb, st->time_base);
    if (key)
        p->flags |= AV_PKT_FLAG_KEY;
    int e = av_interleaved_write_frame(w->oc, p);
    av_packet_unref(p);
    if (e < 0)
        w->first_error = -EIO;
    return w->first_error;
}

int tf_media_writer_video(tf_media_writer_t *w, const uint8_t *au, size_t size, int64_t pts_us,
                          int keyframe)
{
    return write_packet(w, w->vst, au, size, pts_us, AV_TIME_BASE_Q, 0, keyframe);
}

int tf_media_writer_audio(tf_media_writer_t *w, const uint8_t *packet, size_t size,
                          int64_t pts_us, int duration_samples)
{
    if (!w->ast)
        return -EINVAL;
    return write_packet(w, w->ast, packet, size, av_rescale(pts_us, 48000, 1000000),
                        (AVRational){1, 48000}, duration_samples, 1);
}

int tf_media_writer_close(tf_media_writer_t **wp)
{
    tf_media_writer_t *w = *wp;
    if (!w)
        return 0;
    *wp = NULL;
    int e = w->first_error;
    if (w->header_written && av_write_trailer(w->oc) < 0 && !e)
        e = -EIO;
    if (w->oc && !(w->oc->oformat->flags & AVFMT_NOFILE))
        avio_closep(&w->oc->pb);
    avformat_free_context(w->oc);
    av_packet_free(&w->pkt);
    free(w);
    return e;
}
