/* media_reader.c — decodes any file libavformat opens into I420 frames and 48 kHz mono float
 * audio for the offline mixer. Bounded queues keep memory flat whatever the file's length.
 * No encoding, no clock: time is whatever the caller asks for. */
#include "codec/media_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/imgutils.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#define VQ_MAX 32                     /* decoded frames waiting for their time */
#define AFIFO_MAX (48000 * 10)        /* 10 s of audio waiting to be read */
#define VIDEO_HOLD_AFTER_END_US 500000 /* a finished input shows its last frame this long */

struct tf_media_reader {
    char path[512];
    char err[1100]; /* path + ": " + message */
    AVFormatContext *fmt;
    int vidx, aidx;
    AVCodecContext *vdec, *adec;
    AVPacket *pkt;
    AVFrame *frm;
    struct SwsContext *sws;
    SwrContext *swr;
    int64_t start_us;
    tf_frame_t *vq[VQ_MAX];
    int vq_n;
    tf_frame_t *cur;
    int64_t last_video_us;
    float *afifo;
    int a_len;
    int demux_eof, v_eof, a_eof;
};

static int fail(tf_media_reader_t *r, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(r->err, sizeof(r->err), "%s: %s", r->path, msg);
    return code;
}

static const char *averr(int e, char *buf, size_t len)
{
    av_strerror(e, buf, len);
    return buf;
}

static int open_decoder(tf_media_reader_t *r, int idx, AVCodecContext **out)
{
    AVStream *st = r->fmt->streams[idx];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    char eb[128];
    if (!codec)
        return fail(r, -ENOTSUP, "no decoder for codec '%s'",
                    avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return fail(r, -ENOMEM, "out of memory");
    int e = avcodec_parameters_to_context(c, st->codecpar);
    if (e >= 0) {
        c->thread_count = 1;
        c->pkt_timebase = st->time_base;
        e = avcodec_open2(c, codec, NULL);
    }
    if (e < 0) {
        avcodec_free_context(&c);
        return fail(r, -EIO, "cannot open %s decoder: %s", codec->name, averr(e, eb, sizeof(eb)));
    }
    *out = c;
    return 0;
}

int tf_media_reader_open(tf_media_reader_t **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    tf_media_reader_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    snprintf(r->path, sizeof(r->path), "%s", path);
    r->vidx = r->aidx = -1;
    char eb[128];
    int e = avformat_open_input(&r->fmt, path, NULL, NULL);
    if (e < 0) {
        e = fail(r, e == AVERROR(ENOENT) ? -ENOENT : -EIO, "cannot open: %s",
                 averr(e, eb, sizeof(eb)));
        goto err;
    }
    e = avformat_find_stream_info(r->fmt, NULL);
    if (e < 0) {
        e = fail(r, -EIO, "not a readable media file: %s", averr(e, eb, sizeof(eb)));
        goto err;
    }
    r->vidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    r->aidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (r->vidx < 0 && r->aidx < 0) {
        e = fail(r, -EINVAL, "has neither video nor audio");
        goto err;
    }
    if (r->vidx >= 0 && (e = open_decoder(r, r->vidx, &r->vdec)) < 0)
        goto err;
    if (r->aidx >= 0) {
        if ((e = open_decoder(r, r->aidx, &r->adec)) < 0)
            goto err;
        AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
        e = swr_alloc_set_opts2(&r->swr, &mono, AV_SAMPLE_FMT_FLT, 48000, &r->adec->ch_layout,
                                r->adec->sample_fmt, r->adec->sample_rate, 0, NULL);
        if (e < 0 || (e = swr_init(r->swr)) < 0) {
            e = fail(r, -EIO, "cannot convert its audio: %s", averr(e, eb, sizeof(eb)));
            goto err;
        }
        r->afifo = malloc(sizeof(float) * AFIFO_MAX);
        if (!r->afifo) {
            e = fail(r, -ENOMEM, "out of memory");
            goto err;
        }
    }
    r->v_eof = r->vidx < 0;
    r->a_eof = r->aidx < 0;
    r->start_us = r->fmt->start_time != AV_NOPTS_VALUE ? r->fmt->start_time : 0;
    r->pkt = av_packet_alloc();
    r->frm = av_frame_alloc();
    if (!r->pkt || !r->frm) {
        e = fail(r, -ENOMEM, "out of memory");
        goto err;
    }
    *out = r;
    return 0;
err:
    snprintf(err, errlen, "%s", r->err);
    tf_media_reader_close(&r);
    return e;
}

void tf_media_reader_close(tf_media_reader_t **rp)
{
    tf_media_reader_t *r = *rp;
    if (!r)
        return;
    *rp = NULL;
    for (int i = 0; i < r->vq_n; i++)
        tf_frame_unref(&r->vq[i]);
    tf_frame_unref(&r->cur);
    avcodec_free_context(&r->vdec);
    avcodec_free_context(&r->adec);
    avformat_close_input(&r->fmt);
    av_packet_free(&r->pkt);
    av_frame_free(&r->frm);
    sws_freeContext(r->sws);
    swr_free(&r->swr);
    free(r->afifo);
    free(r);
}

int tf_media_reader_has_video(const tf_media_reader_t *r) { return r->vidx >= 0; }
int tf_media_reader_has_audio(const tf_media_reader_t *r) { return r->aidx >= 0; }
int tf_media_reader_eof(const tf_media_reader_t *r)
{
    return r->v_eof && r->a_eof && r->vq_n == 0 && r->a_len == 0;
}
const char *tf_media_reader_error(const tf_media_reader_t *r) { return r->err; }

int64_t tf_media_reader_duration_us(const tf_media_reader_t *r)
{
    return r->fmt->duration != AV_NOPTS_VALUE ? r->fmt->duration : 0;
}

/* Copies (or converts) the decoder's picture into a padded tf_frame. */
static int push_video(tf_media_reader_t *r, AVFrame *f)
{
    tf_frame_t *out = tf_frame_alloc(f->width, f->height);
    if (!out)
        return fail(r, -ENOMEM, "out of memory");
    if (f->format == AV_PIX_FMT_YUV420P || f->format == AV_PIX_FMT_YUVJ420P) {
        for (int p = 0; p < 3; p++) {
            int w = p ? tf_frame_chroma_w(out) : out->width;
            int h = p ? tf_frame_chroma_h(out) : out->height;
            av_image_copy_plane(out->plane[p], out->stride[p], f->data[p], f->linesize[p], w, h);
        }
    } else {
        r->sws = sws_getCachedContext(r->sws, f->width, f->height, f->format, f->width,
                                      f->height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL,
                                      NULL);
        if (!r->sws) {
            tf_frame_unref(&out);
            return fail(r, -ENOTSUP, "cannot convert pixel format %s",
                        av_get_pix_fmt_name(f->format));
        }
        sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height,
                  out->plane, out->stride);
    }
    int64_t ts = f->best_effort_timestamp;
    AVRational tb = r->fmt->streams[r->vidx]->time_base;
    out->pts_us = ts == AV_NOPTS_VALUE ? r->last_video_us
                                       : av_rescale_q(ts, tb, AV_TIME_BASE_Q) - r->start_us;
    r->last_video_us = out->pts_us;
    if (r->vq_n == VQ_MAX) { /* nobody asks for video: keep the newest */
        tf_frame_unref(&r->vq[0]);
        memmove(r->vq, r->vq + 1, sizeof(r->vq[0]) * (VQ_MAX - 1));
        r->vq_n--;
    }
    r->vq[r->vq_n++] = out;
    return 0;
}

static int push_audio(tf_media_reader_t *r, AVFrame *f)
{
    float tmp[4096];
    const uint8_t **in = (const uint8_t **)f->extended_data;
    int n_in = f->nb_samples;
    for (;;) {
        uint8_t *outp[1] = {(uint8_t *)tmp};
        int got = swr_convert(r->swr, outp, 4096, in, n_in);
        if (got < 0)
            return fail(r, -EIO, "audio conversion failed");
        if (got == 0)
            break;
        if (r->a_len + got > AFIFO_MAX) { /* nobody asks for audio: keep the newest */
            int drop = r->a_len + got - AFIFO_MAX;
            memmove(r->afifo, r->afifo + drop, sizeof(float) * (size_t)(r->a_len - drop));
            r->a_len -= drop;
        }
        memcpy(r->afifo + r->a_len, tmp, sizeof(float) * (size_t)got);
        r->a_len += got;
        in = NULL;
        n_in = 0;
    }
    return 0;
}

/* Sends one packet (or NULL to flush) to a decoder and drains its output. */
static int decode(tf_media_reader_t *r, AVCodecContext *c, AVPacket *pkt, int *eof)
{
    char eb[128];
    int e = avcodec_send_packet(c, pkt);
    if (e < 0 && e != AVERROR(EAGAIN) && e != AVERROR_EOF) {
        /* A damaged packet: the decoder resynchronises by itself; count it and go on. */
        return 0;
    }
    for (;;) {
        e = avcodec_receive_frame(c, r->frm);
        if (e == AVERROR(EAGAIN))
            return 0;
        if (e == AVERROR_EOF) {
            *eof = 1;
            return 0;
        }
        if (e < 0)
            return fail(r, -EIO, "decoding failed: %s", averr(e, eb, sizeof(eb)));
        e = c == r->vdec ? push_video(r, r->frm) : push_audio(r, r->frm);
        av_frame_unref(r->frm);
        if (e < 0)
            return e;
    }
}

/* Reads and decodes one packet; at the end of the file flushes both decoders. */
static int step(tf_media_reader_t *r)
{
    if (r->demux_eof) {
        r->v_eof = r->a_eof = 1;
        return 0;
    }
    char eb[128];
    int e = av_read_frame(r->fmt, r->pkt);
    if (e == AVERROR_EOF || e == AVERROR(EIO)) {
        r->demux_eof = 1;
        if (r->vdec && (e = decode(r, r->vdec, NULL, &r->v_eof)) < 0)
            return e;
        if (r->adec && (e = decode(r, r->adec, NULL, &r->a_eof)) < 0)
            return e;
        r->v_eof = r->a_eof = 1;
        return 0;
    }
    if (e < 0)
        return fail(r, -EIO, "read error: %s", averr(e, eb, sizeof(eb)));
    if (r->pkt->stream_index == r->vidx)
        e = decode(r, r->vdec, r->pkt, &r->v_eof);
    else if (r->pkt->stream_index == r->aidx)
        e = decode(r, r->adec, r->pkt, &r->a_eof);
    else
        e = 0;
    av_packet_unref(r->pkt);
    return e;
}

int tf_media_reader_video_at(tf_media_reader_t *r, int64_t t_us, tf_frame_t **frame)
{
    *frame = NULL;
    if (r->vidx < 0)
        return 0;
    while (!r->v_eof && (r->vq_n == 0 || r->vq[r->vq_n - 1]->pts_us <= t_us)) {
        int e = step(r);
        if (e < 0)
            return e;
    }
    int take = 0;
    while (take < r->vq_n && r->vq[take]->pts_us <= t_us)
        take++;
    if (take > 0) {
        tf_frame_unref(&r->cur);
        r->cur = r->vq[take - 1];
        for (int i = 0; i < take - 1; i++)
            tf_frame_unref(&r->vq[i]);
        memmove(r->vq, r->vq + take, sizeof(r->vq[0]) * (size_t)(r->vq_n - take));
        r->vq_n -= take;
    }
    if (r->cur && r->v_eof && r->vq_n == 0 && t_us > r->cur->pts_us + VIDEO_HOLD_AFTER_END_US)
        tf_frame_unref(&r->cur);
    if (r->cur)
        *frame = tf_frame_ref(r->cur);
    return 0;
}

int tf_media_reader_audio(tf_media_reader_t *r, float *pcm, int n)
{
    if (n < 0)
        return -EINVAL;
    while (r->aidx >= 0 && !r->a_eof && r->a_len < n) {
        int e = step(r);
        if (e < 0)
            return e;
    }
    int got = r->a_len < n ? r->a_len : n;
    if (got > 0) {
        memcpy(pcm, r->afifo, sizeof(float) * (size_t)got);
        memmove(r->afifo, r->afifo + got, sizeof(float) * (size_t)(r->a_len - got));
        r->a_len -= got;
    }
    memset(pcm + got, 0, sizeof(float) * (size_t)(n - got));
    return got;
}
