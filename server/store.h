/* store.h — Tafel's persistent store (embedded SQLite): teachers, their rooms, audit events.
 * No network, no clock (callers pass `now` in Unix seconds), no threads: one tf_store_t per thread.
 *
 * Every fallible call returns 0 or a negative errno and, where it takes err/errlen, explains the
 * failure there. -ENOENT: no such teacher/room; -EEXIST: already there; -EACCES: a password or
 * PIN did not verify (callers must not tell users which part was wrong); -EINVAL: bad input;
 * -EIO: SQLite failed. Strings passed in are copied; structs filled out are owned by the caller. */
#ifndef TF_STORE_H
#define TF_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tf_store tf_store_t;

#define TF_STORE_SLUG_LEN 8 /* characters of a room's short link, from TF_STORE_SLUG_ALPHABET */
#define TF_STORE_SLUG_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"
#define TF_STORE_PIN_LEN 6
#define TF_STORE_AUDIT_RETENTION_DAYS 30 /* default */

typedef struct tf_store_teacher {
    int64_t id;
    char email[256]; /* lower-case */
    char name[256];
    int disabled;
    int has_password; /* a local account; 0 for accounts from an external identity provider */
    int64_t created;
} tf_store_teacher_t;

typedef struct tf_store_room {
    int64_t id;
    int64_t teacher_id;
    char slug[TF_STORE_SLUG_LEN + 1];
    char teacher_email[256];
    char teacher_name[256];
    int teacher_disabled;
    int lobby;                /* default 1 */
    char default_layout[16];  /* "grid" (default), "speaker", "presentation" */
    int pupils_unmute;        /* pupils may unmute themselves; default 1 */
    int pupils_video;         /* pupils may start their video; default 1 */
    int pupils_chat;          /* pupils may chat; default 1 */
    int max_participants;     /* default 50 */
} tf_store_room_t;

/* Opens (creating with mode 0600) the database at path, enables WAL and foreign keys, and
 * applies pending schema migrations in order, each in its own transaction. Re-opening an
 * up-to-date store changes nothing. *st is owned by the caller; free with tf_store_close. */
int tf_store_open(tf_store_t **st, const char *path, char *err, size_t errlen);
void tf_store_close(tf_store_t **st);

/* The highest applied migration (>= 1), or a negative errno. */
int tf_store_schema_version(tf_store_t *st);

/* Argon2id cost for new password hashes (defaults 2 passes, 19 MiB: OWASP's minimum). Tests may
 * lower it; existing hashes keep the cost they were made with. */
void tf_store_set_password_cost(tf_store_t *st, uint32_t t_cost, uint32_t m_cost_kib);

/* Adds a teacher and, in the same transaction, their room with a fresh slug and PIN. The email
 * is validated and lower-cased. pin_out (may be NULL) receives the clear PIN: the only time it
 * is visible. out (may be NULL) receives the new teacher. -EEXIST if the email is taken. */
int tf_store_teacher_add(tf_store_t *st, const char *email, const char *name, int64_t now,
                         tf_store_teacher_t *out, char pin_out[TF_STORE_PIN_LEN + 1], char *err,
                         size_t errlen);
int tf_store_teacher_find(tf_store_t *st, const char *email, tf_store_teacher_t *out);
/* disabled: 1 disables (the room stays, with teacher_disabled set), 0 enables again. */
int tf_store_teacher_set_disabled(tf_store_t *st, const char *email, int disabled);

/* Erases a teacher: their record, their room with its settings, PIN and slug, and the room's
 * audit events, in one transaction (store_erase.c). Sessions a running server still holds for
 * the teacher stop working at their next request (the teacher is looked up each time).
 * out (may be NULL) says what went. 0, -ENOENT (no such teacher), -EIO. */
typedef struct tf_store_teacher_delete {
    char email[256];
    char slug[TF_STORE_SLUG_LEN + 1]; /* the room's former link */
    long audit_deleted;
} tf_store_teacher_delete_t;
int tf_store_teacher_delete(tf_store_t *st, const char *email, tf_store_teacher_delete_t *out);

/* Local accounts. An empty password is refused. verify: 0, or -EACCES for a wrong password, an
 * unknown or disabled teacher, or a teacher without a local password. */
int tf_store_password_set(tf_store_t *st, const char *email, const char *password, char *err,
                          size_t errlen);
int tf_store_password_verify(tf_store_t *st, const char *email, const char *password);

int tf_store_room_find_slug(tf_store_t *st, const char *slug, tf_store_room_t *out);
int tf_store_room_find_teacher(tf_store_t *st, const char *email, tf_store_room_t *out);
/* Writes the settings of the room named by r->slug (lobby, default_layout, pupils_unmute,
 * pupils_video, pupils_chat, max_participants). -EINVAL for a value the schema refuses. */
int tf_store_room_update_settings(tf_store_t *st, const tf_store_room_t *r);
/* Sets a new random PIN on the teacher's room and writes it (NUL-terminated) to pin_out. */
int tf_store_pin_reset(tf_store_t *st, const char *email, char pin_out[TF_STORE_PIN_LEN + 1]);
/* 0, or -EACCES for a wrong PIN or an unknown slug. */
int tf_store_pin_verify(tf_store_t *st, const char *slug, const char *pin);

/* Calls cb once per room, ordered by teacher email; a non-zero return from cb stops the walk and
 * is returned. The room pointer is valid only during the call. */
typedef int (*tf_store_room_cb)(void *ud, const tf_store_room_t *room);
int tf_store_rooms_list(tf_store_t *st, tf_store_room_cb cb, void *ud);
/* Number of rooms, or a negative errno. */
long tf_store_rooms_count(tf_store_t *st);

/* Audit events for moderation actions. room_id 0: not about one room. */
int tf_store_audit_add(tf_store_t *st, int64_t now, int64_t room_id, const char *actor,
                       const char *action, const char *detail);
/* Deletes events older than retention_days before now; returns how many, or a negative errno. */
long tf_store_audit_prune(tf_store_t *st, int64_t now, int retention_days);
long tf_store_audit_count(tf_store_t *st);

/* CSV import: a header "email,name" or "email,name,password" (any case, optional UTF-8 BOM),
 * then one teacher per line; fields may be double-quoted (RFC 4180, no newlines inside quotes).
 * Everything happens in one transaction: new teachers get a room, existing ones have their name
 * (and password, if given) updated, so re-importing a file is harmless. A bad row (bad email,
 * missing name, duplicate email in the file, wrong field count) is reported through reject
 * with its 1-based line number and skipped; the other rows are still imported. New rooms' PINs
 * are not shown: reset them to hand them out. Passwords cost one Argon2id hash each. */
typedef struct tf_store_import_report {
    long imported;  /* new teachers (and rooms) */
    long updated;   /* existing teachers whose name or password changed */
    long unchanged; /* existing teachers already as in the file */
    long rejected;
} tf_store_import_report_t;

typedef struct tf_store_import_cb {
    /* Every 256 rows and at the end; total_bytes is 0 if the size is unknown. May be NULL. */
    void (*progress)(void *ud, long rows, long bytes_done, long total_bytes);
    /* One call per rejected row; may be NULL. */
    void (*reject)(void *ud, long line, const char *reason);
    void *ud;
} tf_store_import_cb_t;

/* Returns 0 even when rows were rejected (see report); a negative errno only if nothing was
 * imported (unreadable file, bad header, database failure: the transaction is rolled back). */
int tf_store_import_csv(tf_store_t *st, const char *path, int64_t now,
                        const tf_store_import_cb_t *cb, tf_store_import_report_t *report,
                        char *err, size_t errlen);

#endif
