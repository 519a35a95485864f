/* session_internal.h — struct tf_session, shared by session.c (transport, media) and
 * session_ws.c (the room WebSocket: roles, moderation, chat, hand). Nobody else includes it. */
#ifndef TF_SESSION_INTERNAL_H
#define TF_SESSION_INTERNAL_H

#include "server/room_msg.h"
#include "server/rtc/peer.h"
#include "server/rtc/rtp.h"
#include "server/session.h"

typedef struct track {
    tf_sdp_kind_t kind;
    int pt, rtx_pt;
    uint32_t out_ssrc, out_rtx_ssrc; /* what we send (answer a=ssrc) */
    uint32_t in_ssrc, in_rtx_ssrc;   /* what the browser sends, learned from packets */
    /* receive statistics of in_ssrc (RFC 3550 A.3) */
    tf_rtp_seq_unwrapper_t unwrap;
    int64_t base_ext, max_ext;
    uint64_t received, expected_prior, received_prior;
    uint32_t lsr; /* middle of the NTP time of the browser's last SR */
    uint64_t lsr_at_us;
    /* send statistics of out_ssrc */
    uint64_t sent_packets, sent_octets;
    uint32_t last_rtp_ts;
    uint64_t last_rtp_at_us;
} track_t;

struct tf_session {
    tf_session_t *next, *prev;
    tf_server_t *srv;
    char id[TF_SESSION_ID_LEN + 1], room[65], name[65];
    char ufrag[9], pwd[33];
    tf_peer_t *peer;
    uv_timer_t timer;
    int closing, connected;
    uint64_t created_us, connected_us, next_rtcp_us;
    tf_addr_t addrs[TF_PEER_MAX_VALIDATED];
    int n_addrs;
    track_t track[TF_SDP_MAX_MEDIA];
    int n_tracks;
    uint32_t rtcp_ssrc;
    uint64_t rtp_in, rtp_out, bytes_in, bytes_out, rtcp_in, rtcp_out, bad_in;
    uint64_t nacks_relayed, plis_relayed;
    int rtt_ms; /* -1 until measured */
    /* mixing rooms: the room runs on a worker; this session only moves packets */
    int mixing;
    uint32_t member;
    tf_worker_t *worker;
    char *layout;     /* the newest layout event (JSON) */
    tf_ws_conn_t *ws; /* the browser's room-event WebSocket, if open */
    /* school roles and the teacher's controls (session_ws.c, moderate.c) */
    tf_role_t role;
    int mod_audio, mod_video;   /* the teacher muted / stopped the camera */
    int self_audio, self_video; /* the participant's own switches (1 = off) */
    int hand;                   /* raised */
    int is_screen;              /* the video of a screen a teacher shares */
    tf_chat_bucket_t chat;
};

/* session.c: posts the participant's microphone / camera state (own switches OR the teacher's)
 * to the room engine. */
void tf__session_post_mute(tf_session_t *s);

#endif
