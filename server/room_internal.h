/* room_internal.h — the room engine's shared state, for room.c, room_audio.c and room_video.c
 * only. */
#ifndef TF_ROOM_INTERNAL_H
#define TF_ROOM_INTERNAL_H

#include "codec/opus.h"
#include "codec/video.h"
#include "mixer/audio_mix.h"
#include "mixer/compositor.h"
#include "mixer/tier.h"
#include "server/room.h"
#include "server/room_tier.h"
#include "server/rtc/bwe.h"
#include "server/rtc/recv_stream.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtp.h"

#define OUT_RING 1024          /* packets waiting for the I/O side */
#define HISTORY 512            /* sent video packets kept per receiver for NACK (>= 1 s) */
#define EVENTS 64
#define MAX_PIPES (TF_ROOM_MAX_MEMBERS + 8) /* per-member mode needs one per receiver */
#define AUDIO_PROFILES 3       /* Opus settings by tier: 32k/20 ms, 24k/40 ms, 16k/60 ms */
#define MAX_AUDIO_ENC ((TF_AMIX_MAX_SPEAKERS + 1) * AUDIO_PROFILES)
#define AUDIO_JITTER 32        /* Opus packets buffered per sender */
#define FROZEN_US 2000000      /* a sender without a new frame this long gets its placeholder */

typedef struct hist_entry {
    uint16_t seq;
    uint16_t len;
    uint8_t valid;
    uint8_t data[1300];
} hist_entry_t;

typedef struct jitter_slot {
    uint8_t valid;
    uint16_t seq;
    uint16_t len;
    uint8_t data[512];
} jitter_slot_t;

typedef struct member {
    int slot;                  /* index in room->members: the audio mixer's id */
    tf_member_info_t info;
    uint64_t joined_us;
    /* audio in */
    tf_opus_dec_t *adec;
    jitter_slot_t jit[AUDIO_JITTER];
    int jit_started, jit_playing;
    uint16_t jit_next;
    float pcm[5760 * 2];
    int pcm_len;
    int level;                 /* RFC 6464 level of the newest packet, or 1 = unknown */
    uint32_t audio_ssrc;       /* the sender's audio SSRC (from its offer, or the first packet) */
    uint64_t loud_until_us;    /* decode until then: the sender's level said it may be heard */
    uint64_t audio_skipped;    /* frames not decoded because the sender was quiet */
    uint64_t audio_plc;
    int expand;                /* concealed frames in a row while no packet was there */
    /* video in */
    tf_recv_stream_t *vrecv;
    tf_vdec_t *vdec;
    tf_frame_t *latest;
    uint64_t latest_seq;       /* counts decoded frames: tells a changing tile from a still one */
    uint64_t latest_at_us, last_pli_us;
    uint32_t in_video_ssrc;
    /* out */
    tf_tier_id_t tier;
    int pipe;                  /* video pipe index, -1 none */
    uint16_t vseq, rtx_seq, aseq, twcc_seq;
    uint32_t ts_offset;        /* random RTP timestamp offset of this receiver */
    int audio_off, video_off;  /* the member muted its microphone / camera */
    int mod_audio_off, mod_video_off; /* the teacher did (enforced: see tf_room_moderate) */
    int is_screen;             /* this member's video is a shared screen */
    hist_entry_t *hist;
    uint64_t v_packets, v_octets, a_packets, a_octets;
    uint64_t next_rtcp_us;
    /* bandwidth and tier (room_rate.c) */
    tf_bwe_t *bwe;
    uint64_t next_rate_us;
    tf_tier_ctl_t tctl;        /* tier hysteresis and back-off (room_tier.c) */
    uint64_t tier_changes;
    int uplink_w, uplink_h, uplink_kbps; /* the budget last announced to this sender */
} member_t;

typedef struct pipe {
    int used;
    tf_tier_id_t tier;
    tf_sdp_codec_id_t codec;
    uint32_t owner;            /* per-member mode: the one receiver; 0 when shared */
    tf_compositor_t *comp;
    tf_frame_t *canvas;
    tf_venc_t *enc;
    uint64_t next_frame_us;
    int want_key;
    uint64_t last_key_us;
    int receivers;
    uint32_t order[TF_LAYOUT_MAX_TILES]; /* member id shown in each tile */
    uint64_t shown_seq[TF_LAYOUT_MAX_TILES]; /* latest_seq of each tile's last encoded frame */
    int layout_dirty;           /* send layout metadata with the next frame of this pipe */
    float *qoff;                /* per-macroblock quantizer offsets (H.264) */
    int mb_w, mb_h;
    int fps;                    /* the encoder's frame rate now: the tier's, lower for a screen */
} pipe_t;

typedef struct audio_enc {
    int used, mix_id, profile;
    uint64_t last_tick;        /* the last tick a receiver used it: idle ones are freed */
    tf_opus_enc_t *enc;
    int frame;                 /* samples per packet: 960, 1920 or 2880 */
    float buf[2880];           /* PCM gathered for the next packet */
    int buf_len;
    uint32_t first_ts;         /* media time of buf[0] */
    uint64_t tick;             /* the tick whose PCM is in buf already */
    uint8_t packet[TF_OPUS_MAX_PACKET];
    int len;                   /* a packet completed this tick, 0 when none */
    uint32_t packet_ts;
    int loss_pct;              /* the loss hint given to the encoder (room_audio.c) */
} audio_enc_t;

struct tf_room {
    char name[65];
    uint64_t now_us;           /* the time of the call being handled */
    tf_room_config_t cfg;
    member_t *members[TF_ROOM_MAX_MEMBERS];
    int n_members;
    tf_amix_t *amix;
    uint64_t next_audio_us, audio_ticks;
    pipe_t pipes[MAX_PIPES];
    audio_enc_t aenc[MAX_AUDIO_ENC];
    int active_speaker;        /* member slot, -1 none */
    tf_layout_kind_t layout;   /* the room's layout in the grid tiers */
    int layout_choice;         /* the teacher's choice (tf_room_set_layout), -1: automatic */
    uint32_t spotlight;        /* pinned member id, 0 none */
    uint32_t screen;           /* member id sharing a screen, 0 none */
    /* output ring */
    tf_room_out_t *out;
    size_t out_head, out_len;
    struct {
        uint32_t member;
        char *json;
    } events[EVENTS];
    int ev_head, ev_len;
    int layout_dirty;
    tf_room_stats_t stats;
};

#define MIC_OFF(m) ((m)->audio_off || (m)->mod_audio_off)
#define CAM_OFF(m) ((m)->video_off || (m)->mod_video_off)

uint64_t tf__room_media_clock(uint64_t now_us, uint32_t rate);
void tf__room_emit(tf_room_t *r, uint32_t member, int rtcp, const uint8_t *data, size_t len);
void tf__room_event(tf_room_t *r, uint32_t member, char *json);
size_t tf__room_marshal(tf_room_t *r, member_t *m, const tf_member_media_t *media, uint32_t ssrc,
                        uint8_t pt, uint16_t seq, uint32_t ts, int marker, const uint8_t *payload,
                        size_t len, uint8_t *out, size_t cap);

/* room_rate.c */
uint64_t tf__room_ntp(uint64_t now_us);
int tf__room_rate_join(tf_room_t *r, member_t *m);
void tf__room_rate_leave(member_t *m);
void tf__room_rate_sent(tf_room_t *r, member_t *m, uint16_t twcc_seq, size_t len, uint16_t probe);
void tf__room_rate_rtcp(tf_room_t *r, member_t *m, const tf_rtcp_packet_t *p);
void tf__room_rate_tick(tf_room_t *r);
size_t tf__room_marshal_padding(tf_room_t *r, member_t *m, uint16_t probe, uint8_t *out,
                                size_t cap);

/* room_audio.c */
int tf__room_audio_join(tf_room_t *r, member_t *m);
void tf__room_audio_leave(tf_room_t *r, member_t *m);
void tf__room_audio_rtp(tf_room_t *r, member_t *m, const tf_rtp_packet_t *p);
void tf__room_audio_tick(tf_room_t *r, uint64_t now_us);
void tf__room_audio_free(tf_room_t *r);
void tf__room_audio_reset(member_t *m);

/* room_video.c */
int tf__room_video_join(tf_room_t *r, member_t *m, uint64_t now_us);
void tf__room_video_leave(tf_room_t *r, member_t *m);
void tf__room_video_rtp(tf_room_t *r, member_t *m, uint64_t now_us, const uint8_t *pkt,
                        size_t len);
void tf__room_video_tick(tf_room_t *r, uint64_t now_us);
uint64_t tf__room_video_deadline(const tf_room_t *r);
void tf__room_video_keyframe(tf_room_t *r, member_t *m, uint64_t now_us);
void tf__room_video_nack(tf_room_t *r, member_t *m, const uint16_t *seqs, int n);
void tf__room_video_free(tf_room_t *r);
void tf__room_video_retier(tf_room_t *r, member_t *m);

#endif
