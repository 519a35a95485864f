/* queue.c — bounded message ring under a mutex (the critical section is one memcpy). */
#include "server/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tf_queue_init(tf_queue_t *q, size_t cap)
{
    memset(q, 0, sizeof(*q));
    q->slots = calloc(cap, sizeof(*q->slots));
    if (!q->slots)
        return -ENOMEM;
    q->cap = cap;
    q->reserve = cap / 8;
    pthread_mutex_init(&q->lock, NULL);
    return 0;
}

void tf_queue_free(tf_queue_t *q)
{
    if (!q->slots)
        return;
    tf_msg_t m;
    while (tf_queue_pop(q, &m) == 0)
        free(m.ptr);
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    q->slots = NULL;
}

/* Only the header and the used part of data are copied. */
static void copy_msg(tf_msg_t *dst, const tf_msg_t *src)
{
    memcpy(dst, src, offsetof(tf_msg_t, data));
    memcpy(dst->data, src->data, src->len <= TF_MSG_DATA ? src->len : TF_MSG_DATA);
}

static int is_media(const tf_msg_t *m) { return m->kind == TF_MSG_RTP || m->kind == TF_MSG_RTCP; }

int tf_queue_push(tf_queue_t *q, const tf_msg_t *m)
{
    pthread_mutex_lock(&q->lock);
    if (q->len >= (is_media(m) ? q->cap - q->reserve : q->cap)) {
        q->dropped++;
        q->dropped_control += !is_media(m);
        pthread_mutex_unlock(&q->lock);
        return -ENOBUFS;
    }
    copy_msg(&q->slots[(q->head + q->len) % q->cap], m);
    q->len++;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int tf_queue_pop(tf_queue_t *q, tf_msg_t *m)
{
    pthread_mutex_lock(&q->lock);
    if (q->len == 0) {
        pthread_mutex_unlock(&q->lock);
        return -EAGAIN;
    }
    copy_msg(m, &q->slots[q->head]);
    q->head = (q->head + 1) % q->cap;
    q->len--;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

uint64_t tf_queue_dropped(tf_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t d = q->dropped;
    pthread_mutex_unlock(&q->lock);
    return d;
}

uint64_t tf_queue_dropped_control(tf_queue_t *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t d = q->dropped_control;
    pthread_mutex_unlock(&q->lock);
    return d;
}
