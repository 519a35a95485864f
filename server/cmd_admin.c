/* cmd_admin.c — `tafel admin`: teachers and rooms in DATA_DIR/tafel.db from the command line.
 * No server needed and none contacted; every change goes through store.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/commands.h"
#include "server/store.h"

#define ACTOR "admin-cli"

static void usage(FILE *to)
{
    fprintf(to, "usage: tafel admin [--data-dir DIR] <action>\n"
                "\n"
                "Manages teachers and their rooms in DIR/tafel.db (default DIR: tafel-data).\n"
                "\n"
                "actions:\n"
                "  import-csv FILE          add or update teachers from a CSV file with the\n"
                "                           header 'email,name' or 'email,name,password'\n"
                "  add-teacher EMAIL NAME [--password-stdin]\n"
                "                           add a teacher and their room; prints the room PIN\n"
                "  disable EMAIL            disable a teacher (the room stays)\n"
                "  enable EMAIL             enable a disabled teacher again\n"
                "  reset-pin EMAIL          give the teacher's room a new PIN and print it\n"
                "  delete-teacher EMAIL --yes\n"
                "                           erase a teacher: their account, room, settings and\n"
                "                           the room's audit events (cannot be undone)\n"
                "  list-rooms               one line per room: slug, teacher, state\n"
                "  prune-audit [DAYS]       delete audit events older than DAYS (default %d)\n",
            TF_STORE_AUDIT_RETENTION_DAYS);
}

typedef struct progress {
    int tty;
    long last_line;
} progress_t;

static void on_progress(void *ud, long rows, long bytes, long total)
{
    progress_t *p = ud;
    if (!p->tty)
        return;
    if (total > 0)
        fprintf(stderr, "\rimporting: %ld rows (%ld%%)", rows, bytes * 100 / total);
    else
        fprintf(stderr, "\rimporting: %ld rows", rows);
    fflush(stderr);
}

static void on_reject(void *ud, long line, const char *reason)
{
    progress_t *p = ud;
    if (p->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "line %ld: rejected: %s\n", line, reason);
}

static int import_csv(tf_store_t *st, const char *file)
{
    progress_t p = {.tty = isatty(STDERR_FILENO)};
    tf_store_import_cb_t cb = {.progress = on_progress, .reject = on_reject, .ud = &p};
    tf_store_import_report_t rep;
    char err[512] = "";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tf_store_import_csv(st, file, (int64_t)time(NULL), &cb, &rep, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (p.tty)
        fprintf(stderr, "\n");
    if (rc < 0) {
        fprintf(stderr, "tafel admin: import failed, nothing changed: %s\n", err);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("imported %ld, updated %ld, unchanged %ld, rejected %ld (%.1f s)\n", rep.imported,
           rep.updated, rep.unchanged, rep.rejected, secs);
    if (rep.imported > 0)
        printf("new rooms have random PINs: use 'tafel admin reset-pin EMAIL' to hand one out\n");
    char detail[160];
    snprintf(detail, sizeof(detail), "imported %ld updated %ld rejected %ld", rep.imported,
             rep.updated, rep.rejected);
    tf_store_audit_add(st, (int64_t)time(NULL), 0, ACTOR, "import-csv", detail);
    return rep.rejected > 0 ? 3 : 0;
}

/* Reads one line from stdin without its newline. */
static int read_password(char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, stdin))
        return -EINVAL;
    size_t n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return n > 0 ? 0 : -EINVAL;
}

static int add_teacher(tf_store_t *st, int argc, char **argv)
{
    const char *email = NULL, *name = NULL;
    int pw_stdin = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--password-stdin") == 0)
            pw_stdin = 1;
        else if (!email)
            email = argv[i];
        else if (!name)
            name = argv[i];
        else
            email = NULL, i = argc; /* too many: fall through to the usage error */
    }
    if (!email || !name) {
        fprintf(stderr, "usage: tafel admin add-teacher EMAIL NAME [--password-stdin]\n");
        return 2;
    }
    char pw[1024] = "", err[512] = "", pin[TF_STORE_PIN_LEN + 1];
    if (pw_stdin && read_password(pw, sizeof(pw)) < 0) {
        fprintf(stderr, "tafel admin: no password on standard input\n");
        return 1;
    }
    tf_store_teacher_t t;
    if (tf_store_teacher_add(st, email, name, (int64_t)time(NULL), &t, pin, err, sizeof(err)) <
        0) {
        fprintf(stderr, "tafel admin: %s\n", err);
        return 1;
    }
    if (pw_stdin && tf_store_password_set(st, t.email, pw, err, sizeof(err)) < 0) {
        fprintf(stderr, "tafel admin: teacher added, but the password was not set: %s\n", err);
        return 1;
    }
    tf_store_room_t r;
    if (tf_store_room_find_teacher(st, t.email, &r) < 0) {
        fprintf(stderr, "tafel admin: the new room cannot be read back\n");
        return 1;
    }
    tf_store_audit_add(st, (int64_t)time(NULL), r.id, ACTOR, "add-teacher", t.email);
    printf("teacher %s added; room %s, PIN %s\n", t.email, r.slug, pin);
    return 0;
}

static int set_disabled(tf_store_t *st, const char *email, int disabled)
{
    int rc = tf_store_teacher_set_disabled(st, email, disabled);
    if (rc < 0) {
        fprintf(stderr, "tafel admin: %s: %s\n", email,
                rc == -ENOENT ? "no such teacher" : strerror(-rc));
        return 1;
    }
    tf_store_room_t r;
    int64_t room = tf_store_room_find_teacher(st, email, &r) == 0 ? r.id : 0;
    tf_store_audit_add(st, (int64_t)time(NULL), room, ACTOR, disabled ? "disable" : "enable",
                       email);
    printf("%s %s\n", email, disabled ? "disabled" : "enabled");
    return 0;
}

static int reset_pin(tf_store_t *st, const char *email)
{
    char pin[TF_STORE_PIN_LEN + 1];
    int rc = tf_store_pin_reset(st, email, pin);
    tf_store_room_t r;
    if (rc == 0)
        rc = tf_store_room_find_teacher(st, email, &r);
    if (rc < 0) {
        fprintf(stderr, "tafel admin: %s: %s\n", email,
                rc == -ENOENT ? "no such teacher" : strerror(-rc));
        return 1;
    }
    tf_store_audit_add(st, (int64_t)time(NULL), r.id, ACTOR, "reset-pin", email);
    printf("room %s (%s): new PIN %s\n", r.slug, r.teacher_email, pin);
    return 0;
}

static int delete_teacher(tf_store_t *st, int argc, char **argv)
{
    const char *email = NULL;
    int yes = 0, bad = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--yes"))
            yes = 1;
        else if (!email && argv[i][0] != '-')
            email = argv[i];
        else
            bad = 1;
    }
    if (!email || bad) {
        fprintf(stderr, "usage: tafel admin delete-teacher EMAIL --yes\n");
        return 2;
    }
    tf_store_teacher_t t;
    tf_store_room_t r;
    int rc = tf_store_teacher_find(st, email, &t);
    if (rc < 0) {
        fprintf(stderr, "tafel admin: %s: %s\n", email,
                rc == -ENOENT ? "no such teacher" : strerror(-rc));
        return 1;
    }
    if (!yes) {
        int has_room = tf_store_room_find_teacher(st, t.email, &r) == 0;
        fprintf(stderr,
                "tafel admin: this erases %s, their room %s with its settings and its audit\n"
                "events, for good. Run again with --yes to do it.\n",
                t.email, has_room ? r.slug : "(none)");
        return 2;
    }
    tf_store_teacher_delete_t d;
    rc = tf_store_teacher_delete(st, t.email, &d);
    if (rc < 0) {
        fprintf(stderr, "tafel admin: %s: %s, nothing deleted\n", email,
                rc == -ENOENT ? "no such teacher" : strerror(-rc));
        return 1;
    }
    /* The record of the erasure names neither the teacher nor the room. */
    tf_store_audit_add(st, (int64_t)time(NULL), 0, ACTOR, "delete-teacher", "");
    printf("%s deleted: room %s, %ld audit events\n", d.email, d.slug, d.audit_deleted);
    return 0;
}

static int print_room(void *ud, const tf_store_room_t *r)
{
    (void)ud;
    printf("%s  %-40s %-30s %s lobby=%s layout=%s max=%d\n", r->slug, r->teacher_email,
           r->teacher_name, r->teacher_disabled ? "disabled" : "active  ", r->lobby ? "on" : "off",
           r->default_layout, r->max_participants);
    return 0;
}

int tf_cmd_admin(int argc, char **argv)
{
    const char *data_dir = "tafel-data";
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0)
            data_dir = argv[i] + 11;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else
            break;
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *action = argv[i++];
    int nargs = argc - i;
    char **args = argv + i;
    int ok_args = (!strcmp(action, "import-csv") && nargs == 1) ||
                  (!strcmp(action, "add-teacher") && nargs >= 2) ||
                  ((!strcmp(action, "disable") || !strcmp(action, "enable") ||
                    !strcmp(action, "reset-pin")) && nargs == 1) ||
                  (!strcmp(action, "delete-teacher") && nargs >= 1) ||
                  (!strcmp(action, "list-rooms") && nargs == 0) ||
                  (!strcmp(action, "prune-audit") && nargs <= 1);
    if (!ok_args) {
        fprintf(stderr, "tafel admin: unknown action or wrong arguments: %s\n\n", action);
        usage(stderr);
        return 2;
    }
    if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "tafel admin: cannot create %s: %s\n", data_dir, strerror(errno));
        return 1;
    }
    char path[1024], err[512] = "";
    if ((size_t)snprintf(path, sizeof(path), "%s/tafel.db", data_dir) >= sizeof(path)) {
        fprintf(stderr, "tafel admin: data-dir path too long\n");
        return 2;
    }
    tf_store_t *st = NULL;
    if (tf_store_open(&st, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "tafel admin: %s\n", err);
        return 1;
    }
    int rc = 0;
    if (!strcmp(action, "import-csv")) {
        rc = import_csv(st, args[0]);
    } else if (!strcmp(action, "add-teacher")) {
        rc = add_teacher(st, nargs, args);
    } else if (!strcmp(action, "disable") || !strcmp(action, "enable")) {
        rc = set_disabled(st, args[0], !strcmp(action, "disable"));
    } else if (!strcmp(action, "reset-pin")) {
        rc = reset_pin(st, args[0]);
    } else if (!strcmp(action, "delete-teacher")) {
        rc = delete_teacher(st, nargs, args);
    } else if (!strcmp(action, "list-rooms")) {
        int r = tf_store_rooms_list(st, print_room, NULL);
        rc = r < 0 ? 1 : 0;
    } else {
        char *end = NULL;
        long days = nargs ? strtol(args[0], &end, 10) : TF_STORE_AUDIT_RETENTION_DAYS;
        if ((nargs && (*end || end == args[0])) || days < 0 || days > 100000) {
            fprintf(stderr, "tafel admin: DAYS must be a number of days\n");
            rc = 2;
        } else {
            long n = tf_store_audit_prune(st, (int64_t)time(NULL), (int)days);
            rc = n < 0 ? 1 : 0;
            if (n >= 0)
                printf("%ld audit events deleted\n", n);
        }
    }
    tf_store_close(&st);
    return rc;
}
