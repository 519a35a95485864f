/* room.h — the MCU room engine: decodes every member, composites one picture per tier, mixes
 * audio (mix-minus of the loudest), encodes once per (tier, codec) and per mix, and rewrites the
 * shared RTP for each receiver. Runs on one media worker; no sockets, no clock, no threads:
 * packets and time in, packets for members, events and the next deadline out. */
#ifndef TF_ROOM_H
#define TF_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/sdp.h"

#define TF_ROOM_MAX_MEMBERS 64

/* What a member negotiated for one kind of media (from its SDP plan). */
typedef struct tf_member_media {
    int present;            /* an accepted section of this kind */
    int sends, receives;    /* the member sends to us / we send to the member */
    tf_sdp_codec_id_t codec;
    int pt, rtx_pt;         /* -1 when none */
    uint32_t out_ssrc, out_rtx_ssrc; /* our SSRCs towards the member */
    uint32_t in_ssrc, in_rtx_ssrc;   /* the member's, from its offer's a=ssrc lines; 0 unknown */
    uint8_t ext[TF_SDP_EXT_COUNT];   /* negotiated header extension ids, 0 = none */
    unsigned fb;            /* TF_SDP_FB_* */
} tf_member_media_t;

typedef struct tf_member_info {
    uint32_t id;            /* unique on this server */
    char name[65];
    tf_member_media_t audio, video;
} tf_member_info_t;

typedef struct tf_room_config {
    int max_speakers;       /* K loudest mixed; 0: 3 */
    int per_member_encoders; /* 1: the classic MCU (one video encoder per receiver), for
                              * benchmarks; 0: receivers share (tier, codec) encoders */
    unsigned cpu_mask;      /* SIMD levels for the compositor; ~0u: all */
} tf_room_config_t;

typedef struct tf_room tf_room_t;

int tf_room_create(tf_room_t **out, const char *name, const tf_room_config_t *cfg, uint64_t now_us);
void tf_room_destroy(tf_room_t **room);

int tf_room_join(tf_room_t *r, const tf_member_info_t *info, uint64_t now_us);
void tf_room_leave(tf_room_t *r, uint32_t id, uint64_t now_us);
int tf_room_member_count(const tf_room_t *r);

/* A plain RTP / compound RTCP packet from member id. Malformed input is counted and dropped. */
void tf_room_rtp_in(tf_room_t *r, uint32_t id, uint64_t now_us, const uint8_t *pkt, size_t len);
void tf_room_rtcp_in(tf_room_t *r, uint32_t id, uint64_t now_us, const uint8_t *pkt, size_t len);

/* The member switched its microphone / camera off or on (from the client): shown in the layout
 * metadata; a camera that is off shows the member's placeholder instead of a black picture. */
void tf_room_set_muted(tf_room_t *r, uint32_t id, int audio_off, int video_off);

/* Moderation (issue 6), enforced here rather than trusted to the client: a member the teacher
 * muted contributes to no mix (its packets are dropped before decoding); a stopped camera shows
 * the member's placeholder. 1 sets, 0 lifts; -1 leaves that one as it is. */
void tf_room_moderate(tf_room_t *r, uint32_t id, int audio_off, int video_off);

/* The speaker layout pinned to member id for every tier; 0 unpins. 0, or -ENOENT. */
int tf_room_spotlight(tf_room_t *r, uint32_t id);

/* The teacher's layout choice: TF_LAYOUT_GRID / SPEAKER / PRESENTATION, or -1 for the automatic
 * choice per tier. Speaker and presentation apply to every tier; grid applies to the tiers that
 * show a grid automatically (the lowest video tier keeps one large tile: a grid of thumbnails at
 * its size is illegible). A spotlight and a shared screen take precedence. */
void tf_room_set_layout(tf_room_t *r, int kind);

/* Member id's video is a shared screen (1) or no longer (0): while one is shared, every tier
 * shows the presentation layout with the screen as the large tile, encoded at a lower frame rate
 * (TF_ROOM_SCREEN_FPS) with the most bits on it, for legible text. */
#define TF_ROOM_SCREEN_FPS 8
int tf_room_set_screen(tf_room_t *r, uint32_t id, int on);

/* Runs what is due (audio ticks, video ticks per tier, RTCP, placeholders for frozen senders). */
void tf_room_tick(tf_room_t *r, uint64_t now_us);
uint64_t tf_room_next_deadline(const tf_room_t *r);

typedef struct tf_room_out {
    uint32_t member;
    int rtcp;             /* 0: RTP */
    size_t len;
    uint8_t data[1500];
} tf_room_out_t;

/* The next packet for a member (plain: the I/O side protects it). 0, or -EAGAIN. */
int tf_room_poll_out(tf_room_t *r, tf_room_out_t *out);

/* The next event for members as JSON (malloc'd; the caller frees): *member is the addressee, or
 * 0 for everyone. 0, or -EAGAIN. */
int tf_room_poll_event(tf_room_t *r, uint32_t *member, char **json);

typedef struct tf_room_stats {
    int members, video_encoders, audio_encoders, decoders, tiers_in_use;
    uint64_t frames_decoded, frames_encoded, decode_errors, packets_out, out_dropped;
    uint64_t keyframes_sent, keyframe_requests, nacks_answered, tier_changes, probes;
    uint64_t pipe_failures; /* a receiver found no free encoder slot (should stay 0) */
    uint64_t malformed_in;  /* packets dropped as malformed, or from an unexpected source */
} tf_room_stats_t;
void tf_room_get_stats(const tf_room_t *r, tf_room_stats_t *out);

#endif
