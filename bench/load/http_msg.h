/* http_msg.h — the load generator's client-side messages: HTTP/1.1 responses (WHIP answers,
 * /api/stats, the WebSocket upgrade), WebSocket frames (RFC 6455) and Tafel's room events
 * (docs/api.md: welcome, layout, tier). Sans-IO: bytes in, structs out, caller buffers only; no
 * sockets, no clock. Not a general HTTP client: no chunked bodies, no redirects, no TLS. */
#ifndef TF_LOAD_HTTP_MSG_H
#define TF_LOAD_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mixer/layout.h"

typedef struct tf_load_http_resp {
    int status;
    char location[256]; /* the Location header, "" when absent */
    bool upgrade;       /* 101 with Upgrade: websocket */
    size_t header_len;  /* bytes of status line and headers, blank line included */
    const char *body;   /* into the caller's buffer */
    size_t body_len;
} tf_load_http_resp_t;

/* Parses one response from buf[0..len). A body is Content-Length bytes, or, without that header,
 * everything up to the end of the stream (eof: the peer closed). 101 has no body. Returns the
 * bytes the response takes, -EAGAIN when more bytes are needed, -EPROTO when it is not HTTP/1.x
 * or a header line is malformed, -E2BIG when the headers pass 16 KiB. */
int tf_load_http_parse(const char *buf, size_t len, bool eof, tf_load_http_resp_t *out);

typedef struct tf_load_ws_frame {
    bool fin;
    uint8_t opcode;         /* 1 text, 2 binary, 8 close, 9 ping, 10 pong, 0 continuation */
    const uint8_t *payload; /* into the caller's buffer; unmasked in place when masked */
    size_t len;
} tf_load_ws_frame_t;

/* Parses one frame at buf[0..len) (a server's frames are unmasked; masked ones are unmasked in
 * place). Returns the frame's size, -EAGAIN when incomplete, -EPROTO for a reserved bit, an
 * unknown opcode or a control frame over 125 bytes, -E2BIG over 1 MiB. */
int tf_load_ws_parse(uint8_t *buf, size_t len, tf_load_ws_frame_t *out);

/* A client frame (FIN set, masked with mask_key as RFC 6455 §5.3 requires) into out[0..cap);
 * returns its size or -ENOBUFS. */
int tf_load_ws_build(uint8_t opcode, const uint8_t *payload, size_t len, uint32_t mask_key,
                     uint8_t *out, size_t cap);

typedef enum {
    TF_LOAD_EV_OTHER = 0,
    TF_LOAD_EV_WELCOME,
    TF_LOAD_EV_LAYOUT,
    TF_LOAD_EV_TIER,
    TF_LOAD_EV_UPLINK,
} tf_load_ev_kind_t;

#define TF_LOAD_MAX_TILES TF_LAYOUT_MAX_TILES

typedef struct tf_load_event {
    tf_load_ev_kind_t kind;
    uint32_t member;   /* welcome: our id in layouts */
    char tier[12];     /* layout, tier: "audio", "low", "medium", "high" */
    int width, height; /* layout, tier: the canvas we receive; uplink: the picture to send */
    int kbps;          /* uplink: the video bitrate to send */
    int estimate_kbps; /* tier */
    bool audio_only;   /* tier */
    char reason[32];   /* tier: what moved the estimate */
    int n_tiles;       /* layout */
    uint32_t tile_id[TF_LOAD_MAX_TILES];
    tf_rect_t tile[TF_LOAD_MAX_TILES];
} tf_load_event_t;

/* Parses one room event (JSON text). 0 (kind OTHER for types we do not use), -EPROTO when it is
 * not a JSON object with a string "type" or a known type lacks its fields. */
int tf_load_event_parse(const char *json, size_t len, tf_load_event_t *out);

/* Tier names in order, for comparisons: 0 audio, 1 low, 2 medium, 3 high, -1 unknown. */
int tf_load_tier_rank(const char *tier);

#endif
