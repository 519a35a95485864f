/* queue.h — a bounded multi-producer, single-consumer queue of fixed-size messages between the
 * I/O loop and the media workers. Pushing never blocks on a full queue: the message is dropped
 * and counted (DESIGN §3). Media (RTP, RTCP) may fill the queue only up to cap - reserve: the
 * last slots are kept for everything else (joins, leaves, events, mutes, a teacher's
 * controls), which a burst of media must not push out, since a lost control or layout event is
 * not repaired by the next one. Waking the consumer (uv_async_send) is the caller's job. */
#ifndef TF_QUEUE_H
#define TF_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TF_MSG_DATA 1500

typedef enum {
    TF_MSG_RTP = 1,   /* data: a plain RTP packet (I/O -> worker: from member; back: to member) */
    TF_MSG_RTCP,      /* data: a plain compound RTCP packet */
    TF_MSG_JOIN,      /* ptr: a heap tf_member_info_t, owned by the receiver */
    TF_MSG_LEAVE,     /* member leaves */
    TF_MSG_EVENT,     /* ptr: heap NUL-terminated JSON for member (or every member: member 0) */
    TF_MSG_ROOM_GONE, /* worker -> I/O: the room closed and freed everything */
    TF_MSG_MUTE,      /* I/O -> worker: data[0] bit 0 microphone off, bit 1 camera off */
    TF_MSG_CONTROL,   /* I/O -> worker, room: a teacher's control; data[0] a TF_CTL_* below,
                       * member the target, data[1] (int8_t) the value */
} tf_msg_kind_t;

enum {
    TF_CTL_MOD_AUDIO = 1, /* value 1/0: the teacher muted / lifted (tf_room_moderate) */
    TF_CTL_MOD_VIDEO,     /* value 1/0: camera stopped / lifted */
    TF_CTL_SPOTLIGHT,     /* member pinned; member 0 unpins */
    TF_CTL_LAYOUT,        /* value: a tf_layout_kind_t, or -1 automatic */
    TF_CTL_SCREEN,        /* value 1/0: member's video is a shared screen / no longer */
};

typedef struct tf_msg {
    uint8_t kind;
    uint32_t member;  /* the member it is from or for */
    char room[65];    /* JOIN, ROOM_GONE */
    void *ptr;
    uint16_t len;
    uint8_t data[TF_MSG_DATA];
} tf_msg_t;

typedef struct tf_queue {
    pthread_mutex_t lock;
    tf_msg_t *slots;
    size_t cap, head, len;
    size_t reserve;           /* slots only non-media messages may take: cap / 8 */
    uint64_t dropped;         /* every message refused */
    uint64_t dropped_control; /* of those, non-media ones (the reserve was exhausted too) */
} tf_queue_t;

int tf_queue_init(tf_queue_t *q, size_t cap);
void tf_queue_free(tf_queue_t *q); /* frees ptr payloads still queued */

/* Copies m in: 0, or -ENOBUFS when full for its kind (dropped and counted; m->ptr stays the
 * caller's). */
int tf_queue_push(tf_queue_t *q, const tf_msg_t *m);
/* Copies the oldest message out: 0, or -EAGAIN when empty. */
int tf_queue_pop(tf_queue_t *q, tf_msg_t *m);
uint64_t tf_queue_dropped(tf_queue_t *q);
uint64_t tf_queue_dropped_control(tf_queue_t *q);

#endif
