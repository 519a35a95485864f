/* worker.h — media workers: threads with their own libuv loop that run rooms (decode, mix,
 * encode). The I/O loop talks to a worker only through two bounded queues (DESIGN §3). */
#ifndef TF_WORKER_H
#define TF_WORKER_H

#include <pthread.h>
#include <uv.h>

#include "server/queue.h"
#include "server/metrics.h"
#include "server/room.h"

typedef struct tf_worker_room tf_worker_room_t;

typedef struct tf_worker {
    int index;
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t wake;      /* the I/O loop pushed into `in` (or asks to stop) */
    uv_timer_t timer;
    tf_queue_t in, out;   /* I/O -> worker, worker -> I/O */
    uv_async_t *io_wake;  /* on the I/O loop: `out` has messages */
    tf_room_config_t room_cfg;
    tf_worker_room_t *rooms;
    _Atomic int stop;
    /* Written by the worker after every run, read by the I/O thread for /api/stats. */
    _Atomic int rooms_open, members, video_encoders, audio_encoders, decoders;
    tf_worker_metrics_t metrics; /* aggregate figures for /metrics (metrics.h) */
    uint64_t next_metrics_us;    /* the next run that rebuilds them (at most every 500 ms) */
} tf_worker_t;

/* Starts the thread. io_wake must stay valid until tf_worker_stop() returns. */
int tf_worker_start(tf_worker_t *w, int index, uv_async_t *io_wake, const tf_room_config_t *cfg);
/* Asks the thread to close every room and exit, joins it, frees the queues. */
void tf_worker_stop(tf_worker_t *w);

/* From the I/O thread: queue a message and wake the worker. -ENOBUFS when full (counted). */
int tf_worker_post(tf_worker_t *w, const tf_msg_t *m);

#endif
