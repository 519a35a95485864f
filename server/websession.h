/* websession.h — teachers' browser sessions: the Cookie header parser, the Set-Cookie line, a
 * bounded in-memory session table with idle and absolute expiry, and CSRF synchronizer tokens.
 * Sans-IO: no clock (callers pass `now` in seconds), no sockets; randomness comes from the
 * caller's callback. Sessions do not survive a restart (teachers log in again). */
#ifndef TF_WEBSESSION_H
#define TF_WEBSESSION_H

#include <stddef.h>
#include <stdint.h>

#define TF_WEBSESSION_ID_BYTES 32                         /* 256 random bits */
#define TF_WEBSESSION_ID_LEN (2 * TF_WEBSESSION_ID_BYTES) /* lower-case hex */
#define TF_WEBSESSION_COOKIE "tafel_session"

/* Finds cookie name in a Cookie request header (RFC 6265 §4.2.1 "name=value; name=value") and
 * copies its value (surrounding double quotes removed) to out. Hostile input is refused, never
 * guessed at: a value longer than cap - 1, control characters, or a second cookie of the same
 * name give -EINVAL; no such cookie gives -ENOENT. header may be NULL. */
int tf_cookie_get(const char *header, const char *name, char *out, size_t cap);

/* Writes one Set-Cookie value: "name=value; Path=/; HttpOnly; SameSite=Strict[; Secure]
 * [; Max-Age=N]". max_age < 0: a browser-session cookie; 0: delete it. 0 or -ENOBUFS. */
int tf_cookie_format(char *out, size_t cap, const char *name, const char *value, long max_age,
                     int secure);

/* Compares in time that depends only on n, not on where the bytes differ. 1 when equal. */
int tf_ct_equal(const void *a, const void *b, size_t n);
/* Constant-time for equal lengths; strings of different length are unequal. NULL is unequal. */
int tf_ct_streq(const char *a, const char *b);

typedef int (*tf_random_fn)(uint8_t *buf, size_t len); /* 0 or a negative errno */

typedef struct tf_websession {
    char id[TF_WEBSESSION_ID_LEN + 1];
    char csrf[TF_WEBSESSION_ID_LEN + 1]; /* synchronizer token, sent as X-CSRF-Token */
    int64_t teacher_id;
    char email[256];
    int64_t created, last_seen;
} tf_websession_t;

typedef struct tf_websession_config {
    int capacity;    /* most sessions at once; the least recently used is evicted beyond it */
    long idle_s;     /* a session unused this long ends (e.g. 2 h) */
    long absolute_s; /* and every session ends this long after login (e.g. 12 h) */
    tf_random_fn random;
} tf_websession_config_t;

typedef struct tf_websession_table tf_websession_table_t;

int tf_websession_table_create(tf_websession_table_t **t, const tf_websession_config_t *cfg);
void tf_websession_table_destroy(tf_websession_table_t **t);

/* A new session for a teacher who just proved who they are. The pointer is valid until the next
 * call that changes the table. 0, -EIO (no randomness), -EINVAL. */
int tf_websession_create(tf_websession_table_t *t, int64_t now, int64_t teacher_id,
                         const char *email, tf_websession_t **out);
/* The live session with id (compared in constant time), its last_seen moved to now; NULL when
 * unknown or expired (an expired one is removed). */
tf_websession_t *tf_websession_find(tf_websession_table_t *t, const char *id, int64_t now);
/* Logout. 0 or -ENOENT. */
int tf_websession_delete(tf_websession_table_t *t, const char *id);
/* Ends every session of a teacher (disabled account). Returns how many. */
int tf_websession_delete_teacher(tf_websession_table_t *t, int64_t teacher_id);
/* Removes expired sessions; returns how many. */
int tf_websession_expire(tf_websession_table_t *t, int64_t now);
int tf_websession_count(const tf_websession_table_t *t);
/* 1 when token is the session's CSRF token (constant time). */
int tf_websession_csrf_ok(const tf_websession_t *s, const char *token);

/* Random lower-case hex of 2 * nbytes characters into out (cap > 2 * nbytes). 0 or -errno. */
int tf_random_hex(tf_random_fn rnd, char *out, size_t cap, size_t nbytes);

#endif
