/* lobby.h — the pupils waiting to be let into a personal room, and the short-lived single-use
 * join tokens that WHIP POST requires when authentication is on. Sans-IO: callers pass `now` in
 * seconds and a randomness callback; bounded tables, nothing stored on disk. */
#ifndef TF_LOBBY_H
#define TF_LOBBY_H

#include <stddef.h>
#include <stdint.h>

#include "server/websession.h"

#define TF_LOBBY_TICKET_LEN 32 /* hex: 128 random bits, the waiting pupil's handle */
#define TF_JOIN_TOKEN_LEN 64   /* hex: 256 random bits */

typedef enum { TF_LOBBY_WAITING, TF_LOBBY_ADMITTED, TF_LOBBY_DENIED } tf_lobby_state_t;

typedef struct tf_lobby_entry {
    char ticket[TF_LOBBY_TICKET_LEN + 1];
    char room[65];
    char name[65];
    tf_lobby_state_t state;
    int64_t since, last_poll;
} tf_lobby_entry_t;

typedef struct tf_lobby_config {
    int capacity;     /* waiting pupils and unused tokens, each (whole server) */
    long wait_s;      /* a pupil whose page stops polling this long leaves the queue (e.g. 30) */
    long token_ttl_s; /* a join token not used this long expires (e.g. 60) */
    tf_random_fn random;
} tf_lobby_config_t;

typedef struct tf_lobby tf_lobby_t;

int tf_lobby_create(tf_lobby_t **l, const tf_lobby_config_t *cfg);
void tf_lobby_destroy(tf_lobby_t **l);

/* Queues a pupil; *out (valid until the next call that changes the lobby) has the ticket.
 * 0, -ENOSPC (full), -EIO (no randomness), -EINVAL. */
int tf_lobby_enqueue(tf_lobby_t *l, const char *room, const char *name, int64_t now,
                     tf_lobby_entry_t **out);
/* The waiting pupil's page asks how it stands (and so stays in the queue). ADMITTED issues the
 * join token into token[TF_JOIN_TOKEN_LEN + 1] and ends the entry; DENIED ends it too.
 * 0, or -ENOENT (unknown, expired or already answered ticket). */
int tf_lobby_poll(tf_lobby_t *l, const char *room, const char *ticket, int64_t now,
                  tf_lobby_state_t *state, char *token, size_t cap);
/* The teacher's answer. 0, or -ENOENT (no such waiting pupil in room). */
int tf_lobby_admit(tf_lobby_t *l, const char *room, const char *ticket);
int tf_lobby_deny(tf_lobby_t *l, const char *room, const char *ticket);
/* Calls cb for each pupil waiting in room, oldest first; returns how many. */
typedef void (*tf_lobby_cb)(void *ud, const tf_lobby_entry_t *e);
int tf_lobby_list(tf_lobby_t *l, const char *room, int64_t now, tf_lobby_cb cb, void *ud);

/* A single-use join token for room, carrying the participant's name and role (0 pupil,
 * 1 teacher). 0, -ENOSPC, -EIO. */
int tf_join_token_issue(tf_lobby_t *l, const char *room, const char *name, int role, int64_t now,
                        char *token, size_t cap);
/* Uses up token for room: 0 with the name and role it was issued for, or -EACCES (unknown,
 * expired, used, or for another room). */
int tf_join_token_consume(tf_lobby_t *l, const char *room, const char *token, int64_t now,
                          char *name, size_t name_cap, int *role);

/* Drops waiting pupils who stopped polling and expired tokens; returns how many. */
int tf_lobby_expire(tf_lobby_t *l, int64_t now);

#endif
