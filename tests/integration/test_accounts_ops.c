/* test_accounts_ops.c — the operations side of school accounts against a real `tafel serve`
 * (auth on, plain HTTP on 127.0.0.1, its own data dir): audit events older than
 * audit-retention-days are gone once the server has started; /readyz really queries the store;
 * `tafel admin delete-teacher` erases a teacher, their room and its audit events (and only with
 * --yes), and ends the teacher's running web session. No browser, no media, no LDAP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <time.h>

#include "server/store.h"
#include "tests/integration/http_helper.h"

#define DAY 86400

static char work[400], data[512], db[600];
static int http_port, media_port;
static pid_t running = -1; /* the server a failed test may have left behind */

static int setup_all(void **state)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", work, work);
    if (system(cmd) != 0)
        return -1;
    snprintf(data, sizeof(data), "%s/data", work);
    snprintf(db, sizeof(db), "%s/tafel.db", data);
    http_port = th_free_port(SOCK_STREAM);
    media_port = th_free_port(SOCK_DGRAM);
    return http_port > 0 && media_port > 0 ? 0 : -1;
}

/* Starts the server with auth on and extra "--key", "value" pairs (NULL-terminated). */
static pid_t serve(const char *extra1, const char *extra2)
{
    char hp[16], mp[16], log[512];
    snprintf(hp, sizeof(hp), "%d", http_port);
    snprintf(mp, sizeof(mp), "%d", media_port);
    snprintf(log, sizeof(log), "%s/server.log", work);
    /* clang-format off */
    char *argv[] = {"tafel", "serve", "--tls", "off", "--auth", "on", "--http-port", hp,
                    "--media-port", mp, "--workers", "1", "--data-dir", data,
                    (char *)extra1, (char *)extra2, NULL};
    /* clang-format on */
    pid_t pid = th_serve_start(TAFEL_BIN, argv, log, http_port);
    if (pid < 0)
        fprintf(stderr, "the server did not come up, see %s\n", log);
    running = pid;
    return pid;
}

static int stop(pid_t pid)
{
    running = -1;
    return th_serve_stop(pid);
}

static int teardown_one(void **state)
{
    if (running > 0) {
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
        running = -1;
    }
    return 0;
}

static tf_store_t *open_store(void)
{
    char err[256] = "";
    tf_store_t *st = NULL;
    if (tf_store_open(&st, db, err, sizeof(err)) < 0)
        fprintf(stderr, "store: %s\n", err);
    assert_non_null(st);
    tf_store_set_password_cost(st, 1, 64);
    return st;
}

static long audit_count(void)
{
    tf_store_t *st = open_store();
    long n = tf_store_audit_count(st);
    tf_store_close(&st);
    return n;
}

static int admin(const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' admin --data-dir '%s' %s 2>&1", TAFEL_BIN, data, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    printf("  tafel admin %s -> %d: %s", args, WEXITSTATUS(st), out);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_audit_retention_at_start(void **state)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", data);
    assert_int_equal(system(cmd), 0);
    tf_store_t *st = open_store();
    char err[256];
    assert_int_equal(
        tf_store_teacher_add(st, "r@school.test", "R", time(NULL), NULL, NULL, err, sizeof(err)),
        0);
    tf_store_room_t r;
    assert_int_equal(tf_store_room_find_teacher(st, "r@school.test", &r), 0);
    int64_t now = time(NULL);
    const int ages[] = {40, 31, 29, 8, 1, 0}; /* days */
    for (int i = 0; i < 6; i++)
        assert_int_equal(
            tf_store_audit_add(st, now - ages[i] * DAY - 60, r.id, "owner", "mute", ""), 0);
    tf_store_close(&st);
    assert_int_equal(audit_count(), 6);

    /* Default: 30 days. */
    pid_t pid = serve(NULL, NULL);
    assert_true(pid > 0);
    assert_int_equal(stop(pid), 0);
    assert_int_equal(audit_count(), 4);
    /* A shorter retention on the next start. */
    pid = serve("--audit-retention-days", "7");
    assert_true(pid > 0);
    assert_int_equal(stop(pid), 0);
    assert_int_equal(audit_count(), 2);
    /* 0: nothing kept. */
    pid = serve("--audit-retention-days", "0");
    assert_true(pid > 0);
    assert_int_equal(stop(pid), 0);
    assert_int_equal(audit_count(), 0);
}

static int readyz(char *store, size_t cap)
{
    char *reply;
    int status = th_request(http_port, "GET", "/readyz", NULL, NULL, &reply);
    store[0] = '\0';
    if (reply)
        th_json_str(th_body(reply), "store", store, cap);
    printf("  /readyz -> %d %s", status, reply ? th_body(reply) : "\n");
    free(reply);
    return status;
}

static void sql(const char *text)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_busy_timeout(h, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(h, text, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(h);
    assert_int_equal(rc, SQLITE_OK);
}

static void test_readyz_queries_the_store(void **state)
{
    pid_t pid = serve(NULL, NULL);
    assert_true(pid > 0);
    char store[32];
    assert_int_equal(readyz(store, sizeof(store)), 200);
    assert_string_equal(store, "open");
    /* The server's query must fail when the table it reads goes away under it... */
    sql("ALTER TABLE schema_version RENAME TO schema_version_away");
    assert_int_equal(readyz(store, sizeof(store)), 503);
    assert_string_equal(store, "failing");
    /* ...and succeed again once it is back: each /readyz asks the store anew. */
    sql("ALTER TABLE schema_version_away RENAME TO schema_version");
    assert_int_equal(readyz(store, sizeof(store)), 200);
    assert_string_equal(store, "open");
    assert_int_equal(stop(pid), 0);
}

static void test_delete_teacher(void **state)
{
    char out[2048];
    /* Two teachers with local passwords; audit events in both rooms. */
    tf_store_t *st = open_store();
    char err[256];
    tf_store_room_t ra, rb;
    assert_int_equal(tf_store_teacher_add(st, "del@school.test", "Del", time(NULL), NULL, NULL, err,
                                          sizeof(err)),
                     0);
    assert_int_equal(tf_store_teacher_add(st, "stay@school.test", "Stay", time(NULL), NULL, NULL,
                                          err, sizeof(err)),
                     0);
    assert_int_equal(tf_store_password_set(st, "del@school.test", "Del-pw-1", err, sizeof(err)), 0);
    assert_int_equal(tf_store_room_find_teacher(st, "del@school.test", &ra), 0);
    assert_int_equal(tf_store_room_find_teacher(st, "stay@school.test", &rb), 0);
    long before = tf_store_audit_count(st);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tf_store_audit_add(st, time(NULL), ra.id, "owner", "mute", ""), 0);
    assert_int_equal(tf_store_audit_add(st, time(NULL), rb.id, "owner", "mute", ""), 0);
    tf_store_close(&st);

    /* The teacher is logged in on a running server. */
    pid_t pid = serve(NULL, NULL);
    assert_true(pid > 0);
    char *reply;
    assert_int_equal(th_request(http_port, "POST", "/api/login", NULL,
                                "email=del%40school.test&password=Del-pw-1", &reply),
                     200);
    char cookie[256], hdr[300];
    assert_int_equal(th_header(reply, "Set-Cookie", cookie, sizeof(cookie)), 0);
    cookie[strcspn(cookie, ";")] = '\0';
    free(reply);
    snprintf(hdr, sizeof(hdr), "Cookie: %s\r\n", cookie);
    assert_int_equal(th_request(http_port, "GET", "/api/me", hdr, NULL, &reply), 200);
    free(reply);

    /* Without --yes nothing happens. */
    assert_int_equal(admin("delete-teacher del@school.test", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--yes"));
    assert_non_null(strstr(out, ra.slug));
    st = open_store();
    tf_store_teacher_t t;
    assert_int_equal(tf_store_teacher_find(st, "del@school.test", &t), 0);
    tf_store_close(&st);
    assert_int_equal(admin("delete-teacher nobody@school.test --yes", out, sizeof(out)), 1);
    assert_int_equal(admin("delete-teacher --yes", out, sizeof(out)), 2);

    assert_int_equal(admin("delete-teacher DEL@school.test --yes", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "del@school.test deleted"));
    assert_non_null(strstr(out, "3 audit events"));
    st = open_store();
    tf_store_room_t r;
    assert_int_equal(tf_store_teacher_find(st, "del@school.test", &t), -ENOENT);
    assert_int_equal(tf_store_room_find_slug(st, ra.slug, &r), -ENOENT);
    assert_int_equal(tf_store_room_find_slug(st, rb.slug, &r), 0);
    /* Left: what was there before, the other room's event and the erasure's own record (which
     * names nobody). */
    assert_int_equal(tf_store_audit_count(st), before + 2);
    tf_store_close(&st);
    /* The running server no longer knows the teacher: the session is worthless, the room link
     * leads nowhere, the password is refused. */
    int me = th_request(http_port, "GET", "/api/me", hdr, NULL, &reply);
    printf("  /api/me after the deletion -> %d %s", me, th_body(reply));
    free(reply);
    assert_int_equal(me, 401);
    char path[64];
    snprintf(path, sizeof(path), "/api/rooms/%s", ra.slug);
    int st_room = th_request(http_port, "GET", path, hdr, NULL, &reply);
    free(reply);
    assert_true(st_room == 401 || st_room == 404);
    assert_int_equal(th_request(http_port, "POST", "/api/login", NULL,
                                "email=del%40school.test&password=Del-pw-1", &reply),
                     401);
    free(reply);
    assert_int_equal(stop(pid), 0);
    assert_int_equal(admin("list-rooms", out, sizeof(out)), 0);
    assert_null(strstr(out, "del@school.test"));
    assert_non_null(strstr(out, "stay@school.test"));
}

int main(int argc, char **argv)
{
    snprintf(work, sizeof(work), "%s", argc > 1 ? argv[1] : "/tmp/tafel-test-accounts-ops");
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_audit_retention_at_start, teardown_one),
        cmocka_unit_test_teardown(test_readyz_queries_the_store, teardown_one),
        cmocka_unit_test_teardown(test_delete_teacher, teardown_one),
    };
    return cmocka_run_group_tests(tests, setup_all, NULL);
}
