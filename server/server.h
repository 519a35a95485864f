/* server.h — `tafel serve`'s process state: the libuv loop, the one UDP media socket, HTTP,
 * the DTLS certificate and the sessions. Only server/ sees this. */
#ifndef TF_SERVER_H
#define TF_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "server/addr_map.h"
#include "server/config.h"
#include "server/http.h"
#include "server/rtc/addr.h"
#include "server/rtc/dtls.h"
#include "server/worker.h"

typedef struct tf_session tf_session_t;

typedef struct tf_server_stats {
    uint64_t udp_in, udp_out, udp_send_dropped;
    uint64_t udp_unrouted;    /* datagrams from an address no session knows */
    uint64_t stun_unknown_ufrag;
    uint64_t sessions_created, sessions_closed;
    uint64_t bad_input;       /* datagrams a session refused (malformed, replayed, unvalidated) */
    uint64_t worker_queue_drops; /* packets for a worker dropped at a full queue */
} tf_server_stats_t;

typedef struct tf_server {
    tf_config_t cfg;
    uv_loop_t *loop;
    uv_udp_t udp;
    uv_signal_t sigint, sigterm;
    tf_http_t *http;
    tf_dtls_cert_t *cert;
    char fingerprint[TF_DTLS_FINGERPRINT_SIZE];
    tf_addr_t candidate;       /* the host candidate put into answers */
    tf_addr_map_t by_addr;     /* validated peer address -> session */
    tf_session_t *sessions;    /* doubly linked */
    int n_sessions;
    tf_server_stats_t stats;
    uint8_t rx[65536];         /* the loop's one receive buffer */
    tf_worker_t *workers;      /* media workers; a room lives on workers[hash(room) % n] */
    int n_workers;
    uv_async_t io_wake;        /* a worker queued packets or events for the I/O loop */
    tf_session_t *by_member[65536]; /* member id & 0xffff -> session in a mixing room */
    uint32_t next_member;
    struct tf_api *api;        /* accounts, lobby, join tokens (api.h) */
    int stopping;
} tf_server_t;

uint64_t tf_server_now_us(const tf_server_t *s);

/* Sends one datagram now (uv_udp_try_send); a full socket buffer drops and counts. */
void tf_server_send(tf_server_t *s, const tf_addr_t *to, const uint8_t *buf, size_t len);

/* Fills buf with len random bytes (OpenSSL's DRBG). 0 or -EIO. */
int tf_server_random(uint8_t *buf, size_t len);

/* The worker that runs room. */
tf_worker_t *tf_server_worker_for(tf_server_t *s, const char *room);

/* Runs `tafel serve` until SIGINT/SIGTERM. */
int tf_server_run(const tf_config_t *cfg);

#endif
