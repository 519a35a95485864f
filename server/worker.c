/* worker.c — a media worker thread: drains its queue into rooms, runs each room when it is due,
 * and queues the rooms' packets and events back to the I/O loop. Rooms live on exactly one
 * worker; no room state is shared between threads. */
#include "server/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/log.h"

struct tf_worker_room {
    tf_worker_room_t *next;
    tf_room_t *room;
    char name[65];
    uint32_t members[TF_ROOM_MAX_MEMBERS];
    int n_members;
};

static uint64_t now_us(void) { return uv_hrtime() / 1000; }

static tf_worker_room_t *room_of_member(tf_worker_t *w, uint32_t id)
{
    for (tf_worker_room_t *wr = w->rooms; wr; wr = wr->next)
        for (int i = 0; i < wr->n_members; i++)
            if (wr->members[i] == id)
                return wr;
    return NULL;
}

static void to_io(tf_worker_t *w, tf_msg_t *m)
{
    if (tf_queue_push(&w->out, m) < 0) {
        free(m->ptr); /* a full queue drops (counted by the queue) */
        if (m->kind != TF_MSG_RTP && m->kind != TF_MSG_RTCP)
            tf_log(TF_LOG_WARN, "worker: an event for member %u was lost (queue full)", m->member);
    }
}

static void join(tf_worker_t *w, const tf_msg_t *msg)
{
    tf_member_info_t *info = msg->ptr;
    tf_worker_room_t *wr = w->rooms;
    while (wr && strcmp(wr->name, msg->room) != 0)
        wr = wr->next;
    uint64_t now = now_us();
    if (!wr) {
        wr = calloc(1, sizeof(*wr));
        if (!wr || tf_room_create(&wr->room, msg->room, &w->room_cfg, now) < 0) {
            free(wr);
            free(info);
            return;
        }
        snprintf(wr->name, sizeof(wr->name), "%s", msg->room);
        wr->next = w->rooms;
        w->rooms = wr;
        w->rooms_open++;
    }
    if (wr->n_members < TF_ROOM_MAX_MEMBERS && tf_room_join(wr->room, info, now) == 0) {
        wr->members[wr->n_members++] = info->id;
        w->members++;
    }
    free(info);
}

static void close_room(tf_worker_t *w, tf_worker_room_t *wr)
{
    tf_worker_room_t **pp = &w->rooms;
    while (*pp != wr)
        pp = &(*pp)->next;
    *pp = wr->next;
    tf_room_stats_t st;
    tf_room_get_stats(wr->room, &st);
    tf_metrics_worker_room_closed(&w->metrics, &st);
    tf_room_destroy(&wr->room);
    tf_msg_t gone = {.kind = TF_MSG_ROOM_GONE};
    snprintf(gone.room, sizeof(gone.room), "%s", wr->name);
    to_io(w, &gone);
    free(wr);
    w->rooms_open--;
}

static void leave(tf_worker_t *w, uint32_t id)
{
    tf_worker_room_t *wr = room_of_member(w, id);
    if (!wr)
        return;
    tf_room_leave(wr->room, id, now_us());
    for (int i = 0; i < wr->n_members; i++) {
        if (wr->members[i] == id) {
            wr->members[i] = wr->members[--wr->n_members];
            w->members--;
            break;
        }
    }
    if (wr->n_members == 0)
        close_room(w, wr); /* the last one out: every encoder is freed now */
}

/* A teacher's control for a room (server/moderate.c): the room is named, the target may be 0. */
static void control(tf_worker_t *w, const tf_msg_t *m)
{
    tf_worker_room_t *wr = w->rooms;
    while (wr && strcmp(wr->name, m->room) != 0)
        wr = wr->next;
    if (!wr)
        return;
    int v = (int8_t)m->data[1];
    switch (m->data[0]) {
    case TF_CTL_MOD_AUDIO:
        tf_room_moderate(wr->room, m->member, v, -1);
        break;
    case TF_CTL_MOD_VIDEO:
        tf_room_moderate(wr->room, m->member, -1, v);
        break;
    case TF_CTL_SPOTLIGHT:
        tf_room_spotlight(wr->room, m->member);
        break;
    case TF_CTL_LAYOUT:
        tf_room_set_layout(wr->room, v);
        break;
    case TF_CTL_SCREEN:
        tf_room_set_screen(wr->room, m->member, v);
        break;
    default:
        break;
    }
}

static void drain_room(tf_worker_t *w, tf_worker_room_t *wr)
{
    tf_room_out_t o;
    tf_msg_t m;
    while (tf_room_poll_out(wr->room, &o) == 0) {
        m.kind = o.rtcp ? TF_MSG_RTCP : TF_MSG_RTP;
        m.member = o.member;
        m.ptr = NULL;
        m.len = (uint16_t)o.len;
        memcpy(m.data, o.data, o.len);
        to_io(w, &m);
    }
    uint32_t member;
    char *json;
    while (tf_room_poll_event(wr->room, &member, &json) == 0) {
        tf_msg_t e = {.kind = TF_MSG_EVENT, .member = member, .ptr = json};
        snprintf(e.room, sizeof(e.room), "%s", wr->name);
        to_io(w, &e);
    }
}

static void on_timer(uv_timer_t *t);

static void run_rooms(tf_worker_t *w)
{
    uint64_t now = now_us(), next = UINT64_MAX;
    int venc = 0, aenc = 0, dec = 0;
    /* A run happens for every batch of packets; the /metrics figures (a walk over every member's
     * bandwidth estimate) are rebuilt only twice a second: per run they cost 6 % of a
     * 30-participant room's CPU in a profile. */
    bool metrics = now >= w->next_metrics_us;
    if (metrics) {
        w->next_metrics_us = now + 500000;
        tf_metrics_worker_begin(&w->metrics);
    }
    for (tf_worker_room_t *wr = w->rooms; wr; wr = wr->next) {
        tf_room_tick(wr->room, now);
        drain_room(w, wr);
        uint64_t d = tf_room_next_deadline(wr->room);
        next = d < next ? d : next;
        tf_room_stats_t st;
        tf_room_get_stats(wr->room, &st);
        if (metrics)
            tf_metrics_worker_room(&w->metrics, wr->room, &st);
        venc += st.video_encoders;
        aenc += st.audio_encoders;
        dec += st.decoders;
    }
    w->video_encoders = venc;
    w->audio_encoders = aenc;
    w->decoders = dec;
    if (metrics)
        tf_metrics_worker_end(&w->metrics);
    uv_async_send(w->io_wake);
    if (next == UINT64_MAX)
        uv_timer_stop(&w->timer);
    else
        uv_timer_start(&w->timer, on_timer, next > now ? (next - now + 999) / 1000 : 0, 0);
}

static void on_timer(uv_timer_t *t) { run_rooms(t->data); }

static void on_wake(uv_async_t *a)
{
    tf_worker_t *w = a->data;
    if (w->stop) {
        while (w->rooms) {
            tf_worker_room_t *wr = w->rooms;
            while (wr->n_members)
                leave(w, wr->members[0]); /* the last leave frees the room */
        }
        uv_close((uv_handle_t *)&w->wake, NULL);
        uv_close((uv_handle_t *)&w->timer, NULL);
        return;
    }
    tf_msg_t m;
    uint64_t now = now_us();
    while (tf_queue_pop(&w->in, &m) == 0) {
        tf_worker_room_t *wr;
        switch (m.kind) {
        case TF_MSG_JOIN:
            join(w, &m);
            break;
        case TF_MSG_LEAVE:
            leave(w, m.member);
            break;
        case TF_MSG_MUTE:
            if ((wr = room_of_member(w, m.member)))
                tf_room_set_muted(wr->room, m.member, m.data[0] & 1, (m.data[0] >> 1) & 1);
            break;
        case TF_MSG_CONTROL:
            control(w, &m);
            break;
        case TF_MSG_RTP:
        case TF_MSG_RTCP:
            wr = room_of_member(w, m.member);
            if (!wr)
                break;
            if (m.kind == TF_MSG_RTP)
                tf_room_rtp_in(wr->room, m.member, now, m.data, m.len);
            else
                tf_room_rtcp_in(wr->room, m.member, now, m.data, m.len);
            break;
        default:
            free(m.ptr);
            break;
        }
    }
    run_rooms(w);
}

static void *thread_main(void *arg)
{
    tf_worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

int tf_worker_start(tf_worker_t *w, int index, uv_async_t *io_wake, const tf_room_config_t *cfg)
{
    memset(w, 0, sizeof(*w));
    w->index = index;
    w->io_wake = io_wake;
    w->room_cfg = *cfg;
    tf_metrics_worker_init(&w->metrics);
    int e = tf_queue_init(&w->in, 8192);
    if (e == 0)
        e = tf_queue_init(&w->out, 8192);
    if (e < 0)
        return e;
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->wake, on_wake);
    uv_timer_init(&w->loop, &w->timer);
    w->wake.data = w->timer.data = w;
    if (pthread_create(&w->thread, NULL, thread_main, w) != 0)
        return -EAGAIN;
    return 0;
}

void tf_worker_stop(tf_worker_t *w)
{
    w->stop = 1;
    uv_async_send(&w->wake);
    pthread_join(w->thread, NULL);
    uv_loop_close(&w->loop);
    tf_queue_free(&w->in);
    tf_queue_free(&w->out);
    tf_metrics_worker_destroy(&w->metrics);
}

int tf_worker_post(tf_worker_t *w, const tf_msg_t *m)
{
    int e = tf_queue_push(&w->in, m);
    uv_async_send(&w->wake);
    return e;
}
