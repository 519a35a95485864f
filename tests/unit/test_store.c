/* test_store.c — store.c on a real SQLite file in a temporary folder; no server, no network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/store.h"

#define NOW 1700000000

typedef struct fixture {
    char dir[64];
    char db[128];
    tf_store_t *st;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tafel-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/tafel.db", f->dir);
    char err[256] = "";
    if (tf_store_open(&f->st, f->db, err, sizeof(err)) < 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    tf_store_set_password_cost(f->st, 1, 64); /* tests need speed, not strength */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tf_store_close(&f->st);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_migrations_idempotent(void **state)
{
    fixture_t *f = *state;
    int v = tf_store_schema_version(f->st);
    assert_true(v >= 1);
    char err[256];
    assert_int_equal(tf_store_teacher_add(f->st, "a@school.de", "A", NOW, NULL, NULL, err,
                                          sizeof(err)), 0);
    for (int i = 0; i < 2; i++) {
        tf_store_close(&f->st);
        assert_null(f->st);
        assert_int_equal(tf_store_open(&f->st, f->db, err, sizeof(err)), 0);
        assert_int_equal(tf_store_schema_version(f->st), v);
    }
    tf_store_teacher_t t;
    assert_int_equal(tf_store_teacher_find(f->st, "a@school.de", &t), 0);
    assert_int_equal(tf_store_rooms_count(f->st), 1);
}

static void test_teacher_add_find_disable(void **state)
{
    fixture_t *f = *state;
    char err[256], pin[TF_STORE_PIN_LEN + 1];
    tf_store_teacher_t t, u;
    assert_int_equal(tf_store_teacher_add(f->st, "Anna.Berg@School.DE", "Anna Berg", NOW, &t, pin,
                                          err, sizeof(err)), 0);
    assert_string_equal(t.email, "anna.berg@school.de");
    assert_string_equal(t.name, "Anna Berg");
    assert_int_equal(t.disabled, 0);
    assert_int_equal(t.has_password, 0);
    assert_int_equal(t.created, NOW);
    assert_int_equal(strlen(pin), TF_STORE_PIN_LEN);
    assert_int_equal(tf_store_teacher_add(f->st, "anna.berg@school.de", "Again", NOW, NULL, NULL,
                                          err, sizeof(err)), -EEXIST);
    assert_int_equal(tf_store_teacher_add(f->st, "not-an-email", "X", NOW, NULL, NULL, err,
                                          sizeof(err)), -EINVAL);
    assert_int_equal(tf_store_teacher_add(f->st, "x@y.de", "", NOW, NULL, NULL, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(tf_store_teacher_find(f->st, "ANNA.berg@school.de", &u), 0);
    assert_int_equal(u.id, t.id);
    assert_int_equal(tf_store_teacher_find(f->st, "nobody@school.de", &u), -ENOENT);

    /* The room exists as soon as the teacher does. */
    tf_store_room_t r, r2;
    assert_int_equal(tf_store_room_find_teacher(f->st, t.email, &r), 0);
    assert_int_equal(r.teacher_id, t.id);
    assert_int_equal(strlen(r.slug), TF_STORE_SLUG_LEN);
    assert_int_equal(strspn(r.slug, TF_STORE_SLUG_ALPHABET), TF_STORE_SLUG_LEN);
    assert_int_equal(r.lobby, 1);
    assert_string_equal(r.default_layout, "grid");
    assert_int_equal(r.max_participants, 50);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, pin), 0);

    assert_int_equal(tf_store_teacher_set_disabled(f->st, t.email, 1), 0);
    assert_int_equal(tf_store_teacher_find(f->st, t.email, &u), 0);
    assert_int_equal(u.disabled, 1);
    assert_int_equal(tf_store_room_find_slug(f->st, r.slug, &r2), 0);
    assert_int_equal(r2.teacher_disabled, 1);
    assert_int_equal(tf_store_teacher_set_disabled(f->st, t.email, 0), 0);
    assert_int_equal(tf_store_teacher_set_disabled(f->st, "nobody@school.de", 1), -ENOENT);
}

static void test_password_and_pin(void **state)
{
    fixture_t *f = *state;
    char err[256], pin[TF_STORE_PIN_LEN + 1], pin2[TF_STORE_PIN_LEN + 1];
    assert_int_equal(tf_store_teacher_add(f->st, "p@school.de", "P", NOW, NULL, pin, err,
                                          sizeof(err)), 0);
    assert_int_equal(tf_store_password_verify(f->st, "p@school.de", "anything"), -EACCES);
    assert_int_equal(tf_store_password_set(f->st, "p@school.de", "", err, sizeof(err)), -EINVAL);
    assert_int_equal(tf_store_password_set(f->st, "p@school.de", "correct horse", err,
                                           sizeof(err)), 0);
    assert_int_equal(tf_store_password_set(f->st, "q@school.de", "x", err, sizeof(err)), -ENOENT);
    assert_int_equal(tf_store_password_verify(f->st, "p@school.de", "correct horse"), 0);
    assert_int_equal(tf_store_password_verify(f->st, "P@School.de", "correct horse"), 0);
    assert_int_equal(tf_store_password_verify(f->st, "p@school.de", "correct horsE"), -EACCES);
    assert_int_equal(tf_store_password_verify(f->st, "q@school.de", "correct horse"), -EACCES);
    assert_int_equal(tf_store_teacher_set_disabled(f->st, "p@school.de", 1), 0);
    assert_int_equal(tf_store_password_verify(f->st, "p@school.de", "correct horse"), -EACCES);

    tf_store_room_t r;
    assert_int_equal(tf_store_room_find_teacher(f->st, "p@school.de", &r), 0);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, pin), 0);
    char wrong[TF_STORE_PIN_LEN + 1];
    memcpy(wrong, pin, sizeof(wrong));
    wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, wrong), -EACCES);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, "12345"), -EACCES);
    assert_int_equal(tf_store_pin_verify(f->st, "nosuchsl", pin), -EACCES);

    /* A reset changes the PIN (retry if the new one happens to equal the old: 1 in a million). */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tf_store_pin_reset(f->st, "p@school.de", pin2), 0);
        if (strcmp(pin, pin2) != 0)
            break;
    }
    assert_string_not_equal(pin, pin2);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, pin2), 0);
    assert_int_equal(tf_store_pin_verify(f->st, r.slug, pin), -EACCES);
    assert_int_equal(tf_store_pin_reset(f->st, "nobody@school.de", pin2), -ENOENT);
}

static void test_room_settings(void **state)
{
    fixture_t *f = *state;
    char err[256];
    assert_int_equal(tf_store_teacher_add(f->st, "s@school.de", "S", NOW, NULL, NULL, err,
                                          sizeof(err)), 0);
    tf_store_room_t r, back;
    assert_int_equal(tf_store_room_find_teacher(f->st, "s@school.de", &r), 0);
    r.lobby = 0;
    r.pupils_chat = 0;
    r.max_participants = 12;
    snprintf(r.default_layout, sizeof(r.default_layout), "speaker");
    assert_int_equal(tf_store_room_update_settings(f->st, &r), 0);
    assert_int_equal(tf_store_room_find_slug(f->st, r.slug, &back), 0);
    assert_int_equal(back.lobby, 0);
    assert_int_equal(back.pupils_chat, 0);
    assert_int_equal(back.pupils_unmute, 1);
    assert_int_equal(back.max_participants, 12);
    assert_string_equal(back.default_layout, "speaker");
    /* The schema refuses what makes no sense, and nothing changes. */
    snprintf(r.default_layout, sizeof(r.default_layout), "mosaic");
    assert_int_equal(tf_store_room_update_settings(f->st, &r), -EINVAL);
    r.max_participants = 0;
    snprintf(r.default_layout, sizeof(r.default_layout), "grid");
    assert_int_equal(tf_store_room_update_settings(f->st, &r), -EINVAL);
    assert_int_equal(tf_store_room_find_slug(f->st, r.slug, &back), 0);
    assert_string_equal(back.default_layout, "speaker");
    assert_int_equal(back.max_participants, 12);
    snprintf(r.slug, sizeof(r.slug), "nosuchsl");
    r.max_participants = 5;
    assert_int_equal(tf_store_room_update_settings(f->st, &r), -ENOENT);
}

static void test_audit_prune(void **state)
{
    fixture_t *f = *state;
    char err[256];
    assert_int_equal(tf_store_teacher_add(f->st, "m@school.de", "M", NOW, NULL, NULL, err,
                                          sizeof(err)), 0);
    tf_store_room_t r;
    assert_int_equal(tf_store_room_find_teacher(f->st, "m@school.de", &r), 0);
    const int64_t day = 86400;
    assert_int_equal(tf_store_audit_add(f->st, NOW - 40 * day, r.id, "m@school.de", "mute",
                                        "pupil 3"), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW - 31 * day, r.id, "m@school.de", "kick",
                                        "pupil 4"), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW - 29 * day, r.id, "m@school.de", "lobby",
                                        NULL), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, 0, "admin-cli", "import-csv", ""), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, 999999, "x", "y", ""), -ENOENT);
    assert_int_equal(tf_store_audit_count(f->st), 4);
    assert_int_equal(tf_store_audit_prune(f->st, NOW, TF_STORE_AUDIT_RETENTION_DAYS), 2);
    assert_int_equal(tf_store_audit_count(f->st), 2);
    assert_int_equal(tf_store_audit_prune(f->st, NOW, TF_STORE_AUDIT_RETENTION_DAYS), 0);
    assert_int_equal(tf_store_audit_prune(f->st, NOW, 7), 1);
    assert_int_equal(tf_store_audit_count(f->st), 1);
    assert_int_equal(tf_store_audit_prune(f->st, NOW, -1), -EINVAL);
}

static void test_teacher_delete(void **state)
{
    fixture_t *f = *state;
    char err[256], pin[TF_STORE_PIN_LEN + 1];
    tf_store_room_t gone, kept;
    assert_int_equal(tf_store_teacher_add(f->st, "gone@school.de", "G", NOW, NULL, pin, err,
                                          sizeof(err)), 0);
    assert_int_equal(tf_store_teacher_add(f->st, "kept@school.de", "K", NOW, NULL, NULL, err,
                                          sizeof(err)), 0);
    assert_int_equal(tf_store_password_set(f->st, "gone@school.de", "pw-of-gone", err,
                                           sizeof(err)), 0);
    assert_int_equal(tf_store_room_find_teacher(f->st, "gone@school.de", &gone), 0);
    assert_int_equal(tf_store_room_find_teacher(f->st, "kept@school.de", &kept), 0);
    gone.lobby = 0;
    assert_int_equal(tf_store_room_update_settings(f->st, &gone), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, gone.id, "owner", "mute", ""), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, gone.id, "owner", "lock", ""), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, kept.id, "owner", "mute", ""), 0);
    assert_int_equal(tf_store_audit_add(f->st, NOW, 0, "admin-cli", "import-csv", ""), 0);

    tf_store_teacher_delete_t d;
    assert_int_equal(tf_store_teacher_delete(f->st, "Gone@School.de", &d), 0);
    assert_string_equal(d.email, "gone@school.de");
    assert_string_equal(d.slug, gone.slug);
    assert_int_equal(d.audit_deleted, 2);
    tf_store_teacher_t t;
    tf_store_room_t r;
    assert_int_equal(tf_store_teacher_find(f->st, "gone@school.de", &t), -ENOENT);
    assert_int_equal(tf_store_room_find_teacher(f->st, "gone@school.de", &r), -ENOENT);
    assert_int_equal(tf_store_room_find_slug(f->st, gone.slug, &r), -ENOENT);
    assert_int_equal(tf_store_pin_verify(f->st, gone.slug, pin), -EACCES);
    assert_int_equal(tf_store_password_verify(f->st, "gone@school.de", "pw-of-gone"), -EACCES);
    /* Only that room's events went; the other teacher and the server-wide event stay. */
    assert_int_equal(tf_store_audit_count(f->st), 2);
    assert_int_equal(tf_store_rooms_count(f->st), 1);
    assert_int_equal(tf_store_room_find_slug(f->st, kept.slug, &r), 0);
    assert_int_equal(tf_store_teacher_delete(f->st, "gone@school.de", &d), -ENOENT);
    assert_int_equal(tf_store_teacher_delete(f->st, "not an email", NULL), -ENOENT);
    /* The e-mail can be used again: a new teacher with a new room and link. */
    assert_int_equal(tf_store_teacher_add(f->st, "gone@school.de", "G2", NOW, NULL, NULL, err,
                                          sizeof(err)), 0);
    assert_int_equal(tf_store_room_find_teacher(f->st, "gone@school.de", &r), 0);
    assert_int_equal(r.lobby, 1);
}

typedef struct rejects {
    long lines[16];
    char why[16][64];
    int n;
    long progress_calls, last_rows;
} rejects_t;

static void on_reject(void *ud, long line, const char *reason)
{
    rejects_t *r = ud;
    if (r->n < 16) {
        r->lines[r->n] = line;
        snprintf(r->why[r->n], sizeof(r->why[0]), "%s", reason);
    }
    r->n++;
}

static void on_progress(void *ud, long rows, long bytes, long total)
{
    rejects_t *r = ud;
    assert_true(rows >= r->last_rows);
    assert_true(bytes <= total);
    r->progress_calls++;
    r->last_rows = rows;
}

typedef struct slug_walk {
    tf_store_t *st;
    long n, reachable;
} slug_walk_t;

static int check_room(void *ud, const tf_store_room_t *room)
{
    slug_walk_t *w = ud;
    tf_store_room_t back;
    w->n++;
    if (tf_store_room_find_slug(w->st, room->slug, &back) == 0 && back.id == room->id &&
        strcmp(back.teacher_email, room->teacher_email) == 0)
        w->reachable++;
    return 0;
}

static void test_import_10000(void **state)
{
    fixture_t *f = *state;
    enum { N = 10000 };
    char path[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/teachers.csv", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fprintf(fp, "email,name,password\n");
    for (int i = 0; i < N; i++) /* a few local accounts; the rest from an identity provider */
        fprintf(fp, "teacher%05d@schule%d.example.org,\"Lehrkraft %d, Muster\",%s\n", i, i % 50,
                i, i % 1000 == 0 ? "pw-secret" : "");
    fclose(fp);

    rejects_t rj = {0};
    tf_store_import_cb_t cb = {.progress = on_progress, .reject = on_reject, .ud = &rj};
    tf_store_import_report_t rep;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tf_store_import_csv(f->st, path, NOW, &cb, &rep, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc < 0)
        fprintf(stderr, "import: %s\n", err);
    assert_int_equal(rc, 0);
    printf("import of %d teachers: %.2f s\n", N,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(rep.imported, N);
    assert_int_equal(rep.rejected, 0);
    assert_int_equal(rj.n, 0);
    assert_true(rj.progress_calls >= N / 256);
    assert_int_equal(rj.last_rows, N);
    assert_int_equal(tf_store_rooms_count(f->st), N);

    slug_walk_t w = {.st = f->st};
    assert_int_equal(tf_store_rooms_list(f->st, check_room, &w), 0);
    assert_int_equal(w.n, N);
    assert_int_equal(w.reachable, N);
    assert_int_equal(tf_store_password_verify(f->st, "teacher01000@schule0.example.org",
                                              "pw-secret"), 0);
    tf_store_teacher_t t;
    assert_int_equal(tf_store_teacher_find(f->st, "teacher00007@schule7.example.org", &t), 0);
    assert_string_equal(t.name, "Lehrkraft 7, Muster");
    assert_int_equal(t.has_password, 0);

    /* Re-importing the same file changes nothing: same teachers, same rooms, same slugs. */
    tf_store_room_t before, after;
    assert_int_equal(tf_store_room_find_teacher(f->st, t.email, &before), 0);
    memset(&rj, 0, sizeof(rj));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(tf_store_import_csv(f->st, path, NOW + 1, &cb, &rep, err, sizeof(err)), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("re-import of %d teachers: %.2f s\n", N,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.updated, 0);
    assert_int_equal(rep.unchanged, N);
    assert_int_equal(tf_store_rooms_count(f->st), N);
    assert_int_equal(tf_store_room_find_teacher(f->st, t.email, &after), 0);
    assert_string_equal(before.slug, after.slug);
    assert_int_equal(before.id, after.id);
}

static void test_import_malformed(void **state)
{
    fixture_t *f = *state;
    char path[160], err[256] = "";
    snprintf(path, sizeof(path), "%s/mixed.csv", f->dir);
    write_file(path, "\xef\xbb\xbf"
                     "Email,Name\r\n"                   /* 1 */
                     "a@school.de,Anna\r\n"             /* 2 */
                     "not-an-email,Bad\r\n"             /* 3: bad email */
                     "b@school.de,\r\n"                 /* 4: missing name */
                     "\r\n"                             /* 5: blank, skipped */
                     "c@school.de,\"Carl, C.\"\r\n"     /* 6 */
                     "A@School.de,Anna again\r\n"       /* 7: duplicate in file */
                     "d@school.de\r\n"                  /* 8: missing fields */
                     "e@school.de,Eve,extra\r\n"        /* 9: too many fields */
                     "f@school.de,\"unterminated\r\n"   /* 10: unterminated quote */
                     ",Nobody\r\n"                      /* 11: missing email */
                     "g@school.de,Gil\r\n");            /* 12 */
    rejects_t rj = {0};
    tf_store_import_cb_t cb = {.reject = on_reject, .ud = &rj};
    tf_store_import_report_t rep;
    assert_int_equal(tf_store_import_csv(f->st, path, NOW, &cb, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.imported, 3);
    assert_int_equal(rep.rejected, 7);
    assert_int_equal(rj.n, 7);
    static const long want_lines[] = {3, 4, 7, 8, 9, 10, 11};
    static const char *const want_why[] = {"bad email", "missing name", "duplicate",
                                           "missing fields", "too many fields",
                                           "unterminated quote", "missing email"};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(rj.lines[i], want_lines[i]);
        assert_non_null(strstr(rj.why[i], want_why[i]));
    }
    tf_store_teacher_t t;
    assert_int_equal(tf_store_teacher_find(f->st, "a@school.de", &t), 0);
    assert_string_equal(t.name, "Anna"); /* the duplicate did not overwrite it */
    assert_int_equal(tf_store_teacher_find(f->st, "c@school.de", &t), 0);
    assert_string_equal(t.name, "Carl, C.");
    assert_int_equal(tf_store_teacher_find(f->st, "g@school.de", &t), 0);
    assert_int_equal(tf_store_teacher_find(f->st, "b@school.de", &t), -ENOENT);
    assert_int_equal(tf_store_rooms_count(f->st), 3);

    /* An update: one name changed, the others as before. */
    write_file(path, "email,name\nc@school.de,Carl Neu\na@school.de,Anna\n");
    memset(&rj, 0, sizeof(rj));
    assert_int_equal(tf_store_import_csv(f->st, path, NOW, &cb, &rep, err, sizeof(err)), 0);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 1);
    assert_int_equal(tf_store_teacher_find(f->st, "c@school.de", &t), 0);
    assert_string_equal(t.name, "Carl Neu");

    /* A bad header imports nothing and says where. */
    write_file(path, "mail;name\nz@school.de,Z\n");
    assert_int_equal(tf_store_import_csv(f->st, path, NOW, &cb, &rep, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":1:"));
    assert_int_equal(tf_store_teacher_find(f->st, "z@school.de", &t), -ENOENT);
    assert_int_equal(tf_store_rooms_count(f->st), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_teacher_add_find_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_and_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_room_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_teacher_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_10000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
