/* janus_msg.h — tafel-load's side of the Janus HTTP API (janus.plugin.videoroom, Janus 1.x): the
 * replies and long-poll events it parses (JSON objects or arrays of them) and the SDP it writes
 * (a publisher's sendonly offer, a subscriber's recvonly answer to Janus's offer). Sans-IO: text
 * in, structs and caller buffers out; no sockets, no clock. Not a general Janus client: only the
 * fields tafel-load acts on are read. */
#ifndef TF_LOAD_JANUS_MSG_H
#define TF_LOAD_JANUS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "server/rtc/sdp.h"

typedef enum {
    TF_JANUS_OTHER = 0, /* "timeout", "detached", "trickle", ... */
    TF_JANUS_SUCCESS,
    TF_JANUS_ACK,
    TF_JANUS_EVENT,
    TF_JANUS_ERROR,
    TF_JANUS_WEBRTCUP,
    TF_JANUS_MEDIA,
    TF_JANUS_HANGUP,
    TF_JANUS_KEEPALIVE,
    TF_JANUS_SLOWLINK,
} tf_janus_kind_t;

typedef struct tf_janus_msg {
    tf_janus_kind_t kind;
    uint64_t sender;    /* "sender": the handle an event is for; 0 when absent */
    uint64_t id;        /* success: "data"."id" (a new session or handle); 0 when absent */
    char videoroom[24]; /* "plugindata"."data"."videoroom": "joined", "attached", "created",.. */
    int error_code;     /* "error"."code" or the plugin's "error_code"; 0 for none */
    char error[128];    /* its reason, "" for none */
    char jsep_type[8];  /* "offer", "answer" or "" */
    char *sdp;          /* the jsep's SDP, owned by the message (tf_janus_msg_clear frees it) */
} tf_janus_msg_t;

/* Parses one reply or long-poll body: a JSON object or an array of objects (maxev > 1). Fills
 * out[0..max) and returns how many (objects beyond max are dropped), or -EPROTO when the text is
 * not JSON, an element is not an object with a string "janus", or an id is not a non-negative
 * integer below 2^53; -ENOMEM when an SDP copy fails. Every returned message is cleared with
 * tf_janus_msg_clear, also after an error (the parsed ones are then already cleared). */
int tf_janus_parse(const char *json, size_t len, tf_janus_msg_t *out, int max);
void tf_janus_msg_clear(tf_janus_msg_t *m);

/* Janus's HTTP transport (libmicrohttpd) answers with Transfer-Encoding: chunked, which the
 * generator's HTTP parser leaves in the body. Copies the body's payload into out[0..cap): a body
 * that starts with '{' or '[' as it is, else decoded as chunks (RFC 9112 §7.1; chunk extensions
 * skipped, trailers ignored). Returns the payload length, -EPROTO for a malformed chunk or a
 * body that ends before its last chunk, -ENOBUFS when out is too small. */
int tf_janus_unchunk(const char *body, size_t len, char *out, size_t cap);

/* Our side of a PeerConnection. */
typedef struct tf_janus_local {
    const char *ice_ufrag, *ice_pwd; /* ours */
    const char *fingerprint;         /* sha-256 of our DTLS certificate, "AB:CD:..." */
    const char *ip;                  /* our one host candidate ip:port; NULL: 127.0.0.1 */
    int port;
    uint32_t a_ssrc, v_ssrc; /* publisher: what we send */
} tf_janus_local_t;

/* A publisher's offer: Opus (pt 111, audio level id 1, transport-cc id 3) and H.264 constrained
 * baseline 42e01f packetization-mode 1 (pt 102, transport-cc id 3), both sendonly, BUNDLE,
 * rtcp-mux, a=setup:active (we are the DTLS client, so Janus takes the server role). Returns the
 * length or -ENOBUFS. */
int tf_janus_offer(const tf_janus_local_t *l, char *out, size_t cap);

/* A subscriber's answer to Janus's offer: every m= section mirrored with its first payload type,
 * recvonly, setup:active, no header extensions; sections Janus disabled (port 0) or that are not
 * audio/video stay disabled. Returns the length, -EPROTO when the offer has no audio or video
 * section, or -ENOBUFS. */
int tf_janus_answer(const tf_sdp_t *offer, const tf_janus_local_t *l, char *out, size_t cap);

#endif
