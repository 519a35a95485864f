/* sdp.h — parses a browser's SDP offer and builds Tafel's ICE-lite answer (RFC 8866, 8829, 9143);
 * no sockets, no clock, no malloc, no trickle ICE: every struct is allocated by the caller. */
#ifndef TF_RTC_SDP_H
#define TF_RTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/rtc/addr.h"

/* Limits. More m= sections than TF_SDP_MAX_MEDIA fail with -E2BIG (an answer must mirror every
 * m= line); extra payload types, extmaps, SSRCs, candidates and fingerprints are ignored. */
#define TF_SDP_MAX_MEDIA 16
#define TF_SDP_MAX_CODECS 32    /* payload types per m= section */
#define TF_SDP_MAX_EXTMAPS 16   /* per m= section */
#define TF_SDP_MAX_SSRCS 8      /* per m= section */
#define TF_SDP_MAX_CANDIDATES 8 /* per m= section */
#define TF_SDP_MAX_FINGERPRINTS 4
#define TF_SDP_MID_LEN 32   /* string buffers, NUL included; a longer a=mid fails with -E2BIG */
#define TF_SDP_ICE_LEN 257  /* RFC 8839: ufrag and pwd have at most 256 characters */
#define TF_SDP_ID_LEN 65    /* msid ids and CNAMEs; longer ones are ignored */
#define TF_SDP_FMTP_LEN 128 /* longer a=fmtp sets fmtp_truncated and the codec is never chosen */
#define TF_SDP_URI_LEN 128  /* longer extmap URIs are ignored */

typedef enum { TF_SDP_AUDIO, TF_SDP_VIDEO, TF_SDP_APPLICATION, TF_SDP_OTHER } tf_sdp_kind_t;
/* 0..3 seen from the side that wrote the description: bit 0 = it sends, bit 1 = it receives. */
typedef enum { TF_SDP_INACTIVE, TF_SDP_SENDONLY, TF_SDP_RECVONLY, TF_SDP_SENDRECV } tf_sdp_dir_t;
typedef enum {
    TF_SDP_SETUP_NONE,
    TF_SDP_SETUP_ACTPASS,
    TF_SDP_SETUP_ACTIVE,
    TF_SDP_SETUP_PASSIVE,
    TF_SDP_SETUP_HOLDCONN
} tf_sdp_setup_t;
typedef enum {
    TF_SDP_CODEC_NONE,
    TF_SDP_CODEC_OPUS,
    TF_SDP_CODEC_H264,
    TF_SDP_CODEC_VP8
} tf_sdp_codec_id_t;
#define TF_SDP_CODEC_BIT(id) (1u << (id))

/* a=rtcp-fb bits: "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc". */
enum {
    TF_SDP_FB_NACK = 1,
    TF_SDP_FB_PLI = 2,
    TF_SDP_FB_FIR = 4,
    TF_SDP_FB_REMB = 8,
    TF_SDP_FB_TWCC = 16
};

/* RTP header extensions we accept; index into tf_sdp_media_answer_t.ext. */
typedef enum {
    TF_SDP_EXT_MID,
    TF_SDP_EXT_ABS_SEND_TIME,
    TF_SDP_EXT_TWCC,
    TF_SDP_EXT_AUDIO_LEVEL,
    TF_SDP_EXT_COUNT
} tf_sdp_ext_t;

typedef struct tf_sdp_codec {
    uint8_t pt;
    char name[24];    /* encoding name as written ("H264", "opus"); "" without a=rtpmap */
    uint32_t clock;   /* Hz; 0 without a=rtpmap */
    uint8_t channels; /* 0 when the rtpmap has none */
    unsigned fb;      /* TF_SDP_FB_* offered for this payload type (or for "*") */
    bool fmtp_truncated;
    char fmtp[TF_SDP_FMTP_LEN]; /* parameters after "a=fmtp:<pt> ", "" when none */
} tf_sdp_codec_t;

typedef struct tf_sdp_extmap {
    uint8_t id;   /* 1-14, 16-255 */
    bool has_dir; /* an "/<direction>" followed the id */
    tf_sdp_dir_t dir;
    char uri[TF_SDP_URI_LEN];
} tf_sdp_extmap_t;

typedef struct tf_sdp_ssrc {
    uint32_t ssrc;
    uint32_t rtx_ssrc; /* its retransmission SSRC from a=ssrc-group:FID, 0 if none */
    bool is_rtx;       /* this SSRC is the second of a FID group */
    char cname[TF_SDP_ID_LEN];
} tf_sdp_ssrc_t;

typedef enum {
    TF_SDP_CAND_HOST,
    TF_SDP_CAND_SRFLX,
    TF_SDP_CAND_PRFLX,
    TF_SDP_CAND_RELAY
} tf_sdp_cand_t;
typedef struct tf_sdp_candidate {
    char foundation[33];
    uint16_t component;
    bool udp; /* transport is UDP (else TCP) */
    tf_sdp_cand_t type;
    uint32_t priority;
    tf_addr_t addr; /* family 0 when the address is a name, e.g. an mDNS "*.local" */
    char host[64];  /* the address as written */
} tf_sdp_candidate_t;

typedef struct tf_sdp_fingerprint {
    char hash[16];   /* lower case: "sha-256", "sha-1", "sha-512", ... */
    char value[192]; /* "AB:CD:...", checked to be colon-separated hex of the hash's length */
} tf_sdp_fingerprint_t;

/* Transport attributes, at session level or per m= section. */
typedef struct tf_sdp_transport {
    char ice_ufrag[TF_SDP_ICE_LEN], ice_pwd[TF_SDP_ICE_LEN];
    char ice_options[64];
    tf_sdp_setup_t setup;
    int n_fingerprints;
    tf_sdp_fingerprint_t fingerprints[TF_SDP_MAX_FINGERPRINTS];
} tf_sdp_transport_t;

typedef struct tf_sdp_media {
    tf_sdp_kind_t kind;
    char type[16];  /* the m= media token, e.g. "audio", "application" */
    char proto[32]; /* e.g. "UDP/TLS/RTP/SAVPF" */
    char fmt0[32];  /* first format token of the m= line */
    uint16_t port;
    char mid[TF_SDP_MID_LEN]; /* "" without a=mid */
    tf_sdp_dir_t dir;         /* sendrecv when absent (RFC 3264) */
    bool rtcp_mux, rtcp_rsize, bundle_only, end_of_candidates;
    tf_sdp_transport_t tr; /* effective: a value missing here is copied from session level */
    char msid_stream[TF_SDP_ID_LEN], msid_track[TF_SDP_ID_LEN];
    int n_codecs, n_extmaps, n_ssrcs, n_candidates;
    tf_sdp_codec_t codecs[TF_SDP_MAX_CODECS]; /* in m= line order: the offerer's preference */
    tf_sdp_extmap_t extmaps[TF_SDP_MAX_EXTMAPS];
    tf_sdp_ssrc_t ssrcs[TF_SDP_MAX_SSRCS];
    tf_sdp_candidate_t candidates[TF_SDP_MAX_CANDIDATES];
} tf_sdp_media_t;

typedef struct tf_sdp {
    char session_id[24]; /* o= sess-id */
    bool ice_lite;
    tf_sdp_transport_t tr; /* session-level values only */
    int n_bundle;          /* mids of the first a=group:BUNDLE, in order */
    char bundle[TF_SDP_MAX_MEDIA][TF_SDP_MID_LEN];
    int n_media;
    tf_sdp_media_t media[TF_SDP_MAX_MEDIA];
} tf_sdp_t; /* about 170 KB: allocate it, don't put it on a small stack */

/* Parses buf[0..len) (need not be NUL-terminated; CRLF or LF). Returns 0, -EBADMSG when it is
 * not SDP (first line not "v=0", a malformed m= line, NUL bytes), -E2BIG beyond the limits, or
 * -EINVAL for bad arguments; err (may be NULL) then says why. Unknown lines are ignored. */
int tf_sdp_parse(tf_sdp_t *sdp, const char *buf, size_t len, char *err, size_t errlen);

/* Finds key in an fmtp parameter string ("a=1;b=2"), case-insensitively; copies its value.
 * Returns 0, -ENOENT, or -ENOBUFS when val is too small. */
int tf_sdp_fmtp_get(const char *fmtp, const char *key, char *val, size_t vallen);

/* H.264 profile-level-id (RFC 6184 §8.1), classified the way libwebrtc does. */
typedef enum {
    TF_SDP_H264_CONSTRAINED_BASELINE = 1,
    TF_SDP_H264_BASELINE,
    TF_SDP_H264_MAIN,
    TF_SDP_H264_CONSTRAINED_HIGH,
    TF_SDP_H264_HIGH,
    TF_SDP_H264_PREDICTIVE_HIGH_444
} tf_sdp_h264_profile_t;
#define TF_SDP_H264_LEVEL_1B 0 /* other levels are level_idc: 10 * level, e.g. 31 for 3.1 */
/* Parses six hex digits; -EINVAL for an unknown level or profile_idc/constraint combination. */
int tf_sdp_h264_profile_level(const char *plid, size_t len, tf_sdp_h264_profile_t *profile,
                              uint8_t *level);

typedef enum { TF_SDP_PREFER_H264, TF_SDP_PREFER_VP8, TF_SDP_PREFER_OFFER } tf_sdp_video_pref_t;
typedef struct tf_sdp_config {
    unsigned codecs; /* TF_SDP_CODEC_BIT(...) of what we decode and encode */
    tf_sdp_video_pref_t video_pref;
    uint8_t h264_level;    /* level_idc we answer, 31 (3.1) by default */
    bool h264_allow_mode0; /* accept packetization-mode=0 when no mode 1 is offered */
    bool rtx;
    unsigned fb_audio, fb_video; /* TF_SDP_FB_* we echo when offered */
    unsigned exts;               /* 1u << TF_SDP_EXT_* we accept */
    uint8_t opus_minptime;       /* ms; 0 leaves it out */
    bool opus_inband_fec;
    int max_audio, max_video; /* further sections of that kind are rejected (port 0) */
} tf_sdp_config_t;
void tf_sdp_config_default(tf_sdp_config_t *cfg);

typedef struct tf_sdp_media_answer {
    bool accepted;
    tf_sdp_dir_t dir; /* our direction: the offer's, mirrored */
    tf_sdp_codec_id_t codec;
    int pt, rtx_pt;                /* -1 when none */
    char h264_plid[7];             /* the profile-level-id we answer, e.g. "42e01f" */
    int h264_mode;                 /* the packetization-mode we answer */
    char fmtp[80];                 /* our a=fmtp parameters for pt, "" for none */
    unsigned fb;                   /* TF_SDP_FB_* echoed */
    uint8_t ext[TF_SDP_EXT_COUNT]; /* negotiated extension ids, 0 = not used */
    bool rtcp_rsize;
    uint32_t ssrc, rtx_ssrc; /* the caller sets these where dir has TF_SDP_SENDONLY's bit */
    char reason[96];         /* why the section was rejected */
} tf_sdp_media_answer_t;

typedef struct tf_sdp_plan {
    int n_media; /* == offer->n_media */
    int tagged;  /* the section whose ICE/DTLS attributes the bundle uses (RFC 9143) */
    tf_sdp_media_answer_t media[TF_SDP_MAX_MEDIA];
} tf_sdp_plan_t;

/* Chooses codecs, extensions and directions for each m= section of a parsed offer. Returns 0
 * when at least one section is accepted (the others carry a reason); -EPROTO (HTTP 400) when the
 * offer breaks WebRTC's rules (no ICE credentials, fingerprint, rtcp-mux or BUNDLE, setup:passive,
 * missing or repeated mids, ice-lite); -ENOTSUP (HTTP 488/415) when nothing in it is audio or
 * video we can decode; -EINVAL for bad arguments or configuration. err says why. */
int tf_sdp_negotiate(const tf_sdp_t *offer, const tf_sdp_config_t *cfg, tf_sdp_plan_t *plan,
                     char *err, size_t errlen);

/* Our side of the answer. The strings are borrowed for the call only. */
typedef struct tf_sdp_local {
    uint64_t session_id, session_version;
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint;     /* sha-256 of our certificate, "AB:CD:..." (32 bytes) */
    const char *cname;           /* RTCP CNAME of the streams we send */
    const char *stream_id;       /* a=msid stream id; track ids are "<kind>-<mid>" */
    const tf_addr_t *candidates; /* host candidates; the first is the m=/c= default */
    int n_candidates;
} tf_sdp_local_t;

/* Writes the answer (CRLF lines, NUL-terminated) into out[0..cap) and its length to *len.
 * Returns 0, -EINVAL for bad local values or a missing SSRC, or -ENOBUFS with *len set to the
 * capacity needed (NUL included). */
int tf_sdp_write_answer(const tf_sdp_t *offer, const tf_sdp_plan_t *plan,
                        const tf_sdp_local_t *local, char *out, size_t cap, size_t *len);

#endif
