/* store_erase.c — erasing a teacher from the store: the teacher, their room with its settings
 * and the room's audit events, in one transaction (a school's answer to an erasure request or
 * to a teacher leaving). No clock, no network; the rest of the store is store.c. */
#include "server/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "server/store_internal.h"

static int exec_id(tf_store_t *st, const char *sql, int64_t id, long *changed)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(s);
    if (rc == 0 && changed)
        *changed = (long)sqlite3_changes(st->db);
    return rc;
}

int tf_store_teacher_delete(tf_store_t *st, const char *email, tf_store_teacher_delete_t *out)
{
    tf_store_teacher_t t;
    tf_store_room_t r;
    int rc = tf_store_teacher_find(st, email, &t);
    if (rc < 0)
        return rc;
    /* A teacher always has a room (one transaction made both), but do not rely on it here. */
    int has_room = tf_store_room_find_teacher(st, t.email, &r) == 0;
    long audit = 0, teachers = 0;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return -EIO;
    /* The audit table's room_id would only be set to NULL by the room's deletion (ON DELETE SET
     * NULL keeps other rooms' history intact): this room's events go explicitly, first. The
     * room and its settings go with the teacher (ON DELETE CASCADE). */
    rc = has_room ? exec_id(st, "DELETE FROM audit WHERE room_id = ?", r.id, &audit) : 0;
    if (rc == 0)
        rc = exec_id(st, "DELETE FROM teachers WHERE id = ?", t.id, &teachers);
    if (rc == 0 && teachers != 1)
        rc = -ENOENT; /* deleted by someone else between the look-up and here */
    if (rc == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -EIO;
    if (rc < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    if (out) {
        snprintf(out->email, sizeof(out->email), "%s", t.email);
        snprintf(out->slug, sizeof(out->slug), "%s", has_room ? r.slug : "");
        out->audit_deleted = audit;
    }
    return 0;
}
