/* media_file.h — reading and writing media files for the offline mixer (libavformat).
 *
 * The reader opens anything libavformat can open, decodes its first video and first audio
 * stream with libavcodec, and hands out I420 frames ("the newest frame at time t") and 48 kHz
 * mono float audio in the amounts asked for. Memory stays bounded whatever the file's length.
 * The writer muxes already-encoded H.264 (Annex-B) and Opus into Matroska or MP4. No network. */
#ifndef TF_MEDIA_FILE_H
#define TF_MEDIA_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "codec/frame.h"

typedef struct tf_media_reader tf_media_reader_t;

/* Opens path; on failure returns a negative errno and writes a sentence naming the file and
 * the reason into err. */
int tf_media_reader_open(tf_media_reader_t **out, const char *path, char *err, size_t errlen);
void tf_media_reader_close(tf_media_reader_t **r);

int tf_media_reader_has_video(const tf_media_reader_t *r);
int tf_media_reader_has_audio(const tf_media_reader_t *r);
/* Container duration in microseconds, or 0 when unknown. */
int64_t tf_media_reader_duration_us(const tf_media_reader_t *r);

/* The newest video frame whose time (from the stream start) is <= t_us, as a new reference in
 * *frame (NULL before the first frame, after the end, or without video). Times must not go
 * backwards between calls. Returns 0, or a negative errno after a read or decode error (the
 * message is in tf_media_reader_error()). */
int tf_media_reader_video_at(tf_media_reader_t *r, int64_t t_us, tf_frame_t **frame);

/* The next n samples of 48 kHz mono float audio; silence after the end or without audio.
 * Returns the number of samples that came from the file (0..n) or a negative errno. */
int tf_media_reader_audio(tf_media_reader_t *r, float *pcm, int n);

/* 1 when both streams are exhausted. */
int tf_media_reader_eof(const tf_media_reader_t *r);

/* The last error as a sentence naming the file ("" when none). */
const char *tf_media_reader_error(const tf_media_reader_t *r);

typedef struct tf_media_writer tf_media_writer_t;

typedef struct tf_media_writer_config {
    int width, height, fps_num, fps_den;  /* video: H.264, Annex-B packets */
    const uint8_t *h264_headers;           /* Annex-B SPS + PPS (tf_venc_headers) */
    size_t h264_headers_size;
    int audio_channels;                     /* Opus at 48 kHz; 0 = no audio track */
    int opus_preskip;                       /* samples of encoder delay */
} tf_media_writer_config_t;

/* Creates path; the container follows the extension (.mkv/.webm: Matroska, .mp4/.mov: MP4). */
int tf_media_writer_open(tf_media_writer_t **out, const char *path,
                         const tf_media_writer_config_t *cfg, char *err, size_t errlen);
int tf_media_writer_video(tf_media_writer_t *w, const uint8_t *au, size_t size, int64_t pts_us,
                          int keyframe);
int tf_media_writer_audio(tf_media_writer_t *w, const uint8_t *packet, size_t size,
                          int64_t pts_us, int duration_samples);
/* Writes the trailer and closes; returns the first error seen, if any. */
int tf_media_writer_close(tf_media_writer_t **w);

#endif
