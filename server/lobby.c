/* lobby.c — the lobby queue and join tokens (lobby.h). No clock, no sockets, no disk. Tickets
 * and tokens are compared in constant time; tables are small arrays walked linearly. */
#include "server/lobby.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct token {
    char token[TF_JOIN_TOKEN_LEN + 1];
    char room[65];
    char name[65];
    int role;
    int64_t expires;
    int used;
} token_t;

struct tf_lobby {
    tf_lobby_config_t cfg;
    tf_lobby_entry_t *q; /* in arrival order */
    int nq;
    token_t *t;
};

int tf_lobby_create(tf_lobby_t **out, const tf_lobby_config_t *cfg)
{
    *out = NULL;
    if (!cfg || cfg->capacity <= 0 || cfg->wait_s <= 0 || cfg->token_ttl_s <= 0 || !cfg->random)
        return -EINVAL;
    tf_lobby_t *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->cfg = *cfg;
    l->q = calloc((size_t)cfg->capacity, sizeof(*l->q));
    l->t = calloc((size_t)cfg->capacity, sizeof(*l->t));
    if (!l->q || !l->t) {
        tf_lobby_destroy(&l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

void tf_lobby_destroy(tf_lobby_t **lp)
{
    tf_lobby_t *l = *lp;
    if (!l)
        return;
    *lp = NULL;
    free(l->q);
    if (l->t)
        memset(l->t, 0, (size_t)l->cfg.capacity * sizeof(*l->t));
    free(l->t);
    free(l);
}

static void remove_q(tf_lobby_t *l, int i)
{
    memmove(&l->q[i], &l->q[i + 1], (size_t)(l->nq - i - 1) * sizeof(l->q[0]));
    l->nq--;
    memset(&l->q[l->nq], 0, sizeof(l->q[0]));
}

int tf_lobby_expire(tf_lobby_t *l, int64_t now)
{
    int n = 0;
    for (int i = l->nq - 1; i >= 0; i--)
        if (now - l->q[i].last_poll >= l->cfg.wait_s) {
            remove_q(l, i);
            n++;
        }
    for (int i = 0; i < l->cfg.capacity; i++)
        if (l->t[i].used && now >= l->t[i].expires) {
            memset(&l->t[i], 0, sizeof(l->t[i]));
            n++;
        }
    return n;
}

static int text_ok(const char *s, size_t cap)
{
    return s && *s && strlen(s) < cap;
}

int tf_lobby_enqueue(tf_lobby_t *l, const char *room, const char *name, int64_t now,
                     tf_lobby_entry_t **out)
{
    *out = NULL;
    if (!text_ok(room, sizeof(l->q[0].room)) || !text_ok(name, sizeof(l->q[0].name)))
        return -EINVAL;
    tf_lobby_expire(l, now);
    if (l->nq == l->cfg.capacity)
        return -ENOSPC;
    tf_lobby_entry_t *e = &l->q[l->nq];
    memset(e, 0, sizeof(*e));
    if (tf_random_hex(l->cfg.random, e->ticket, sizeof(e->ticket), TF_LOBBY_TICKET_LEN / 2) < 0)
        return -EIO;
    snprintf(e->room, sizeof(e->room), "%s", room);
    snprintf(e->name, sizeof(e->name), "%s", name);
    e->state = TF_LOBBY_WAITING;
    e->since = e->last_poll = now;
    l->nq++;
    *out = e;
    return 0;
}

static int find_q(tf_lobby_t *l, const char *room, const char *ticket)
{
    if (!ticket || strlen(ticket) != TF_LOBBY_TICKET_LEN || !room)
        return -1;
    int hit = -1;
    for (int i = 0; i < l->nq; i++)
        if (tf_ct_equal(l->q[i].ticket, ticket, TF_LOBBY_TICKET_LEN) &&
            strcmp(l->q[i].room, room) == 0)
            hit = i;
    return hit;
}

int tf_lobby_poll(tf_lobby_t *l, const char *room, const char *ticket, int64_t now,
                  tf_lobby_state_t *state, char *token, size_t cap)
{
    tf_lobby_expire(l, now);
    int i = find_q(l, room, ticket);
    if (i < 0)
        return -ENOENT;
    tf_lobby_entry_t *e = &l->q[i];
    *state = e->state;
    if (e->state == TF_LOBBY_WAITING) {
        e->last_poll = now;
        return 0;
    }
    if (e->state == TF_LOBBY_ADMITTED) {
        int rc = tf_join_token_issue(l, e->room, e->name, 0, now, token, cap);
        if (rc < 0)
            return rc; /* the entry stays: the page may ask again */
    }
    remove_q(l, i);
    return 0;
}

static int answer(tf_lobby_t *l, const char *room, const char *ticket, tf_lobby_state_t st)
{
    int i = find_q(l, room, ticket);
    if (i < 0 || l->q[i].state != TF_LOBBY_WAITING)
        return -ENOENT;
    l->q[i].state = st;
    return 0;
}

int tf_lobby_admit(tf_lobby_t *l, const char *room, const char *ticket)
{
    return answer(l, room, ticket, TF_LOBBY_ADMITTED);
}

int tf_lobby_deny(tf_lobby_t *l, const char *room, const char *ticket)
{
    return answer(l, room, ticket, TF_LOBBY_DENIED);
}

int tf_lobby_list(tf_lobby_t *l, const char *room, int64_t now, tf_lobby_cb cb, void *ud)
{
    tf_lobby_expire(l, now);
    int n = 0;
    for (int i = 0; i < l->nq; i++)
        if (l->q[i].state == TF_LOBBY_WAITING && strcmp(l->q[i].room, room) == 0) {
            if (cb)
                cb(ud, &l->q[i]);
            n++;
        }
    return n;
}

int tf_join_token_issue(tf_lobby_t *l, const char *room, const char *name, int role, int64_t now,
                        char *token, size_t cap)
{
    if (!text_ok(room, sizeof(l->t[0].room)) || !name || strlen(name) >= sizeof(l->t[0].name) ||
        cap < TF_JOIN_TOKEN_LEN + 1)
        return -EINVAL;
    tf_lobby_expire(l, now);
    token_t *t = NULL;
    for (int i = 0; i < l->cfg.capacity && !t; i++)
        if (!l->t[i].used)
            t = &l->t[i];
    if (!t)
        return -ENOSPC;
    if (tf_random_hex(l->cfg.random, t->token, sizeof(t->token), TF_JOIN_TOKEN_LEN / 2) < 0)
        return -EIO;
    snprintf(t->room, sizeof(t->room), "%s", room);
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->role = role;
    t->expires = now + l->cfg.token_ttl_s;
    t->used = 1;
    memcpy(token, t->token, TF_JOIN_TOKEN_LEN + 1);
    return 0;
}

int tf_join_token_consume(tf_lobby_t *l, const char *room, const char *token, int64_t now,
                          char *name, size_t name_cap, int *role)
{
    if (!token || strlen(token) != TF_JOIN_TOKEN_LEN || !room)
        return -EACCES;
    tf_lobby_expire(l, now);
    token_t *hit = NULL;
    for (int i = 0; i < l->cfg.capacity; i++)
        if (l->t[i].used && tf_ct_equal(l->t[i].token, token, TF_JOIN_TOKEN_LEN))
            hit = &l->t[i];
    if (!hit || strcmp(hit->room, room) != 0)
        return -EACCES;
    snprintf(name, name_cap, "%s", hit->name);
    *role = hit->role;
    memset(hit, 0, sizeof(*hit)); /* single use */
    return 0;
}
