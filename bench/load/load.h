/* load.h — tafel-load's internals shared by its files: the run (options, loop, clips, send-time
 * tables, server figures), one simulated participant, and the HTTP/WebSocket client shell.
 * A benchmark client on libuv, not a library: nothing here is used by the server. */
#ifndef TF_LOAD_LOAD_H
#define TF_LOAD_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>
#include <uv.h>

#include "bench/load/clip.h"
#include "bench/load/http_msg.h"
#include "codec/opus.h"
#include "codec/video.h"
#include "server/rtc/recv_stream.h"
#include "server/rtc/sdp.h"
#include "server/rtc/srtp.h"
#include "server/rtc/stun.h"
#include "tests/unit/dtls_test_client.h" /* the browser-like DTLS client (real wall clock) */

#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define URI_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

#define LG_MAX_SLOTS 1024
#define LG_TWCC_MAX 2048  /* transport-cc arrivals kept between feedback packets */
#define LG_NACK_HIST 1024 /* sent video packets kept for retransmission (power of two) */
#define LG_LAT_MAX 200000 /* latency samples kept per run */

typedef struct lg lg_t;
typedef struct part part_t;

/* ---- HTTP / WebSocket over libuv TCP (net.c) --------------------------------------------- */

typedef struct lg_http lg_http_t;
/* resp is NULL on a transport error; it points into the connection's buffer during the call. */
typedef void (*lg_http_cb)(lg_http_t *h, const tf_load_http_resp_t *resp, void *arg);
typedef void (*lg_ws_cb)(lg_http_t *h, const char *text, size_t len, void *arg);

/* One request on its own connection (Connection: close). body may be NULL. The connection frees
 * itself after cb. 0 or a negative errno (then cb never runs). */
int lg_http_request(lg_t *lg, const char *method, const char *path, const char *ctype,
                    const char *body, size_t body_len, lg_http_cb cb, void *arg);
/* The same, returning the connection so that a long-poll can be ended early with lg_ws_close
 * (valid until cb has run). NULL on failure. */
lg_http_t *lg_http_open(lg_t *lg, const char *method, const char *path, const char *ctype,
                        const char *body, size_t body_len, lg_http_cb cb, void *arg);
/* Opens the room WebSocket /ws?session=ID; on_text for every text message; on_close once when it
 * ends. Returns the handle (closed with lg_ws_close) or NULL. */
lg_http_t *lg_ws_open(lg_t *lg, const char *session, lg_ws_cb on_text, lg_http_cb on_close,
                      void *arg);
void lg_ws_close(lg_http_t **h);

/* ---- one participant (client.c) --------------------------------------------------------- */

typedef enum {
    P_IDLE,
    P_JOINING, /* WHIP POST sent */
    P_ICE,     /* answer in: STUN checks */
    P_DTLS,
    P_CONNECTED,
    P_LEAVING, /* DELETE sent */
    P_DONE,
    P_FAILED,
} p_state_t;

typedef struct p_stats {
    uint64_t rx_bytes, rx_video_bytes, tx_bytes;
    uint64_t tx_audio, tx_video, tx_errors; /* RTP packets sent; sendto failures */
    uint64_t frames, frames_decoded, decode_errors, late_frames;
    uint64_t freezes, freeze_us;
    uint64_t audio_frames, audio_concealed; /* Opus packets that arrived; lost ones concealed
                                             * with PLC (not rebuilt) */
    uint64_t audio_fec;      /* lost packets rebuilt from the next packet's in-band FEC (LBRR) */
    uint64_t audio_with_fec; /* packets that arrived carrying FEC for the one before */
    uint64_t rtx_in, rtx_padding, rtx_recovered; /* RTX SSRC: retransmissions, padding-only
                                                  * probes; gaps the stream filled later */
    uint64_t v_given_up, v_frames_dropped;       /* video gaps given up on; complete frames held
                                                  * back while waiting for a key frame */
    uint64_t nacks, plis, nacks_in, plis_in, retransmits;
    uint64_t stamps_read, stamp_misses, stamp_wrong_tile;
    uint64_t tier_changes;
    uint64_t twcc_reported, twcc_missing, twcc_late; /* statuses sent, of them not received;
                                                      * arrivals older than what was reported */
} p_stats_t;

struct part {
    lg_t *lg;
    int idx, room, slot, in_room; /* slot: the stamp's sender id; in_room: 0..N-1 */
    bool relayed, decode;         /* through tafel-relay; fully decodes what it receives */
    p_state_t state;
    char fail[128];
    uint64_t t_join, t_ice, t_connected, t_first_frame; /* t_ice: first datagram sent */
    char location[256], session[64];
    /* transport */
    int fd; /* our UDP socket (SO_TIMESTAMPNS: arrival times are the kernel's, not our loop's) */
    uv_poll_t poll;
    bool poll_open;
    struct sockaddr_in to;
    char ufrag[9], pwd[25];
    tf_stun_key_t *srv_key;
    char srv_ufrag[TF_SDP_ICE_LEN];
    uint8_t tid[8]
               [TF_STUN_TID_LEN]; /* the last checks' transaction ids (answers lag on slow links) */
    uint32_t tid_seq;
    uint64_t tid_at[8]; /* when each of those checks was sent */
    int64_t rtt_us;     /* smoothed from check -> answer (0: none yet); the video NACK timing */
    bool ice_ok;
    uint64_t next_check;
    dtls_test_client_t dtls;
    bool dtls_init;
    tf_srtp_t *srtp;
    /* what we send */
    const tf_clip_t *clip; /* the uplink size the server asked for (tf_clip_sizes[clip->size]) */
    int uplink_switches;   /* times an `uplink` message moved us to another clip */
    int uplink_w, uplink_h, uplink_kbps; /* the last `uplink` message (0: none came) */
    uint32_t a_ssrc, v_ssrc, rtcp_ssrc;
    uint16_t a_seq, v_seq, twcc_up;
    uint32_t a_ts0, v_ts0;
    int vframe, aframe;
    uint64_t next_v, next_a, media_t0;
    uint8_t ext_twcc, ext_level; /* answered extension ids (0: none) */
    uint16_t hist_seq[LG_NACK_HIST];
    int32_t hist_pkt[LG_NACK_HIST];
    uint32_t hist_ts[LG_NACK_HIST];
    bool restart_clip; /* a PLI came: the next frame is the clip's IDR */
    /* what we receive */
    uint32_t srv_a_ssrc, srv_v_ssrc, srv_v_rtx_ssrc;
    int srv_a_pt, srv_v_pt, srv_v_rtx_pt;
    tf_recv_stream_t *rv, *ra;
    tf_vdec_t *vdec;
    tf_opus_dec_t *adec;
    uint16_t twcc_seq[LG_TWCC_MAX];
    uint64_t twcc_at[LG_TWCC_MAX];
    int n_twcc;
    uint8_t twcc_fb_count;
    uint16_t twcc_next; /* the first seq the next feedback may report */
    bool twcc_started;
    uint64_t next_twcc, next_rtcp;
    int64_t delay_min_us; /* smallest arrival - media time seen: the late-frame reference */
    bool delay_known;
    uint64_t last_frame_at, last_decoded_at;
    bool frozen;
    /* room events */
    lg_http_t *ws;
    uint32_t member;
    char tier[12];
    int estimate_kbps; /* from the newest tier event, -1 before one */
    char tier_reason[32];
    int canvas_w, canvas_h, n_tiles;
    uint32_t tile_id[TF_LOAD_MAX_TILES];
    tf_rect_t tile[TF_LOAD_MAX_TILES];
    uint32_t tile_last[TF_LOAD_MAX_TILES]; /* last stamp (slot << 8 | frame) + 1 per tile */
    double tone_prev[64];                  /* per in_room sender: last frame's tone amplitude */
    int tone_quiet[64];
    uint64_t tier_at[16];
    int tier_rank[16], n_tier;
    /* per second, for plots and the weak-link figures */
    uint64_t sec_bytes;
    uint64_t freeze_from[16], freeze_to[16]; /* the first freezes, for outage recovery */
    int n_freeze_log;
    p_stats_t st;
    /* Janus mode (janus.c): a publisher PeerConnection sends only; a subscriber one receives only
     * (its owner is a participant) and sees every RTP packet through on_rtp: decrypted for the
     * streams it depacketizes (srv_a/v_ssrc), as received (SRTP) for the others. */
    bool recv_only;
    void (*on_rtp)(part_t *p, const uint8_t *rtp, size_t len);
};

int part_join(part_t *p);   /* starts WHIP; 0 or a negative errno */
void part_leave(part_t *p); /* DELETE, then done */
void part_tick(part_t *p, uint64_t now);
void part_free(part_t *p);
/* The transport half of part_join for other signalling (janus.c): clip, ICE credentials, SSRCs,
 * DTLS client, decoders when sampled, the UDP socket on 127.0.0.1 (its port in *port); p->to is
 * left to the caller. 0 or a negative errno. */
int lg_part_open(part_t *p, int *port);
/* The first non-RTX SSRC of a received m-section and its RTX partner (0 when none). */
void lg_media_ssrcs(const tf_sdp_media_t *m, uint32_t *ssrc, uint32_t *rtx);
/* Takes an audio or video m-section as what p receives: SSRC, payload type, RTX. */
void lg_part_take_media(part_t *p, const tf_sdp_media_t *m);
/* Creates p's receive streams once both were taken: 0, -EPROTO (one missing) or -ENOMEM. */
int lg_part_open_streams(part_t *p);
/* The server's WHIP answer: credentials, what p receives, its receive streams. 0 or -EPROTO. */
int lg_take_answer(part_t *p, const char *sdp, size_t len);
/* The server's answer is in (srv_ufrag, srv_key, the DTLS fingerprint, p->to): start ICE checks. */
void lg_part_start_ice(part_t *p, uint64_t now);

/* ---- the run (load_main.c) --------------------------------------------------------------- */

typedef struct lg_slot_times {
    uint64_t vsent[TF_CLIP_V_FRAMES]; /* when frame k was last sent (µs, uv_hrtime based) */
    uint64_t aonset[TF_CLIP_A_FRAMES / TF_CLIP_BURST_EVERY];
    uint32_t member; /* its member id, once welcomed (0: unknown) */
    int part;        /* index into lg->parts */
} lg_slot_times_t;

typedef struct lg_lat {
    float *v;
    size_t n, cap;
} lg_lat_t;

struct lg {
    uv_loop_t *loop;
    struct sockaddr_in http, media, relay;
    bool use_relay;
    int relay_who; /* participants per room through the relay (from the first) */
    int talkers;   /* participants per room (from the first) whose tone bursts are sent */
    const char *cache_dir;
    int decode_every;                                /* 1: every receiver decodes; k: every k-th */
    tf_clip_t *clips[LG_MAX_SLOTS][TF_CLIP_N_SIZES]; /* a slot's clip per uplink size */
    lg_slot_times_t slots[LG_MAX_SLOTS];
    part_t *parts;
    int n_parts, cap_parts, participants; /* participants per room */
    char room_prefix[32];
    uint64_t t0;
    lg_lat_t video_lat, audio_lat;
    uint64_t join_failures;
    int verbose;
    int64_t realtime_minus_mono_us; /* measured once at start */
    uint64_t t_end;                 /* when the run stopped (lg_now) */
    struct lg_janus *janus;         /* --janus: the Janus VideoRoom signalling (janus.c) */
    char local_ip[16];              /* --local-ip: our UDP sockets' address ("" = 127.0.0.1) */
    int janus_clip; /* --uplink-clip: the clip Janus-mode senders send (no `uplink` there) */
};

uint64_t lg_now(void); /* µs, monotonic */
/* A kernel receive timestamp (CLOCK_REALTIME) on lg_now()'s clock. */
uint64_t lg_from_realtime(const lg_t *lg, const struct timespec *ts);
void lg_lat_add(lg_lat_t *l, double ms);

/* ---- Janus VideoRoom instead of Tafel (janus.c) ------------------------------------------- */

/* Creates the Janus session (lg->http is Janus's HTTP API) and its event long-poll. */
int lg_janus_start(lg_t *lg);
bool lg_janus_ready(const lg_t *lg);  /* session and rooms are there: participants may join */
bool lg_janus_failed(const lg_t *lg); /* the session or a room could not be created */
int lg_janus_join(part_t *p);         /* attach, joinandconfigure with our offer (publisher) */
void lg_janus_tick(lg_t *lg, uint64_t now); /* subscriptions, keepalives, subscriber PCs */
bool lg_janus_settled(const lg_t *lg);      /* every subscriber PC connected or failed */
/* Adds each participant's subscriber PCs' receive figures into the participant (call before
 * reading p->st or p->sec_bytes). */
void lg_janus_fold(lg_t *lg);
void lg_janus_stop(lg_t *lg); /* ends the long-poll, closes the subscriber PCs */
void lg_janus_report(const lg_t *lg, const char *outdir); /* appends its section to report.md */
void lg_janus_free(lg_t *lg);                             /* after the loop has ended */

#endif
