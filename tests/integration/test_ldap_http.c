/* test_ldap_http.c — LDAP login end to end: a real slapd (slapd_helper.h) and `tafel serve` with
 * auth on and the ldap-* keys pointing at it (LDAPS, certificate checked against the test's CA,
 * a filter that refuses disabled accounts), driven over HTTP like the browser does: POST
 * /api/login (form-encoded, Origin checked), the session cookie, the CSRF token from the login
 * answer on every state-changing request. Checks that a teacher's first directory login creates
 * the teacher and the personal room in the store, that a wrong password and a disabled account
 * are refused and create nothing, and that the session works only with its CSRF token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <time.h>

#include "server/store.h"
#include "tests/integration/http_helper.h"
#include "tests/integration/slapd_helper.h"

static char data[600], db[700], origin_hdr[128];
static int http_port;
static pid_t server = -1;

static int setup_all(void **state)
{
    if (slapd_helper_start("test_ldap_http") < 0)
        return -1;
    snprintf(data, sizeof(data), "%s/data", work);
    snprintf(db, sizeof(db), "%s/tafel.db", data);
    http_port = th_free_port(SOCK_STREAM);
    int media_port = th_free_port(SOCK_DGRAM);
    char hp[16], mp[16], uri[128], tmpl[128], ca[600], log[600];
    snprintf(hp, sizeof(hp), "%d", http_port);
    snprintf(mp, sizeof(mp), "%d", media_port);
    snprintf(uri, sizeof(uri), "ldaps://127.0.0.1:%d", port_tls);
    snprintf(tmpl, sizeof(tmpl), "uid=%%s,ou=people,%s", BASE);
    snprintf(ca, sizeof(ca), "%s/ca.pem", work);
    snprintf(log, sizeof(log), "%s/server.log", work);
    snprintf(origin_hdr, sizeof(origin_hdr), "Origin: http://127.0.0.1:%d\r\n", http_port);
    /* clang-format off */
    char *argv[] = {"tafel", "serve", "--tls", "off", "--auth", "on", "--http-port", hp,
                    "--media-port", mp, "--workers", "1", "--data-dir", data,
                    "--ldap-uri", uri, "--ldap-ca-file", ca, "--ldap-base-dn", BASE,
                    "--ldap-bind-dn-template", tmpl, "--ldap-filter", DISABLED_FILTER,
                    "--ldap-timeout-ms", "3000", NULL};
    /* clang-format on */
    server = th_serve_start(TAFEL_BIN, argv, log, http_port);
    if (server < 0) {
        fprintf(stderr, "test_ldap_http: the server did not come up, see %s\n", log);
        stop_slapd();
        return -1;
    }
    return 0;
}

static int teardown_all(void **state)
{
    int rc = th_serve_stop(server);
    stop_slapd();
    if (rc != 0)
        fprintf(stderr, "test_ldap_http: the server did not stop cleanly (%d)\n", rc);
    return rc == 0 ? 0 : -1;
}

typedef struct web {
    char cookie[200]; /* "tafel_session=..." */
    char csrf[80];
} web_t;

/* POST /api/login as a browser on this origin would; fills w on success. */
static int login(web_t *w, const char *form, char **reply)
{
    int st = th_request(http_port, "POST", "/api/login", origin_hdr, form, reply);
    printf("  login %-50s -> %d %s", form, st, th_body(*reply));
    if (st == 200) {
        char sc[400];
        assert_int_equal(th_header(*reply, "Set-Cookie", sc, sizeof(sc)), 0);
        /* A session cookie the page's scripts cannot read, never sent cross-site. */
        assert_non_null(strcasestr(sc, "HttpOnly"));
        assert_non_null(strcasestr(sc, "SameSite=Strict"));
        snprintf(w->cookie, sizeof(w->cookie), "%.*s", (int)strcspn(sc, ";"), sc);
        assert_int_equal(th_json_str(th_body(*reply), "csrf", w->csrf, sizeof(w->csrf)), 0);
        assert_true(strlen(w->csrf) >= 32);
    }
    return st;
}

/* A request with the session cookie; csrf: send the X-CSRF-Token header. */
static int call(const web_t *w, const char *method, const char *path, const char *form, int csrf,
                char **reply)
{
    char hdr[512];
    snprintf(hdr, sizeof(hdr), "Cookie: %s\r\n%s%s%s%s", w->cookie, origin_hdr,
             csrf ? "X-CSRF-Token: " : "", csrf ? w->csrf : "", csrf ? "\r\n" : "");
    int st = th_request(http_port, method, path, hdr, form, reply);
    printf("  %s %s%s -> %d %s", method, path, csrf ? " (csrf)" : "", st, th_body(*reply));
    return st;
}

static tf_store_t *store(void)
{
    char err[256] = "";
    tf_store_t *st = NULL;
    if (tf_store_open(&st, db, err, sizeof(err)) < 0)
        fprintf(stderr, "store: %s\n", err);
    assert_non_null(st);
    return st;
}

static void test_first_login_creates_teacher_and_room(void **state)
{
    tf_store_t *st = store();
    tf_store_teacher_t t;
    tf_store_room_t r;
    assert_int_equal(tf_store_teacher_find(st, "anna.lehrerin@school.test", &t), -ENOENT);
    assert_int_equal(tf_store_rooms_count(st), 0);
    tf_store_close(&st);

    web_t w = {0}, w2 = {0};
    char *reply = NULL, slug[16] = "", name[64] = "";
    /* Another site's page cannot log a browser in. */
    assert_int_equal(th_request(http_port, "POST", "/api/login", "Origin: https://evil.test\r\n",
                                "email=anna.lehrerin%40school.test&password=Anna-pw-1", &reply),
                     403);
    free(reply);
    /* The e-mail as the teacher types it, in any case. */
    assert_int_equal(login(&w, "email=Anna.Lehrerin%40School.test&password=Anna-pw-1", &reply),
                     200);
    assert_int_equal(th_json_str(th_body(reply), "slug", slug, sizeof(slug)), 0);
    assert_int_equal(th_json_str(th_body(reply), "name", name, sizeof(name)), 0);
    assert_string_equal(name, "Anna Lehrerin"); /* from the directory's cn */
    free(reply);

    /* The store now has the teacher (no local password) and the room the answer named. */
    st = store();
    assert_int_equal(tf_store_teacher_find(st, "anna.lehrerin@school.test", &t), 0);
    assert_int_equal(t.has_password, 0);
    assert_int_equal(t.disabled, 0);
    assert_int_equal(tf_store_room_find_teacher(st, t.email, &r), 0);
    assert_string_equal(r.slug, slug);
    assert_int_equal(tf_store_rooms_count(st), 1);
    tf_store_close(&st);

    /* The session. */
    assert_int_equal(call(&w, "GET", "/api/me", NULL, 0, &reply), 200);
    char csrf_me[80];
    assert_int_equal(th_json_str(th_body(reply), "csrf", csrf_me, sizeof(csrf_me)), 0);
    assert_string_equal(csrf_me, w.csrf);
    free(reply);
    char path[64];
    snprintf(path, sizeof(path), "/api/rooms/%s/settings", slug);
    assert_int_equal(call(&w, "GET", path, NULL, 0, &reply), 200);
    assert_non_null(strstr(th_body(reply), "\"max_participants\": 50"));
    free(reply);
    /* A state change needs the CSRF token: without it nothing changes. */
    assert_int_equal(call(&w, "POST", path, "max_participants=12", 0, &reply), 403);
    free(reply);
    web_t forged = w;
    snprintf(forged.csrf, sizeof(forged.csrf), "%064d", 0);
    assert_int_equal(call(&forged, "POST", path, "max_participants=12", 1, &reply), 403);
    free(reply);
    assert_int_equal(call(&w, "POST", path, "max_participants=12", 1, &reply), 200);
    free(reply);
    st = store();
    assert_int_equal(tf_store_room_find_slug(st, slug, &r), 0);
    assert_int_equal(r.max_participants, 12);
    tf_store_close(&st);
    /* The room works: the teacher sets a PIN and a pupil's PIN check against the store passes. */
    snprintf(path, sizeof(path), "/api/rooms/%s/pin", slug);
    assert_int_equal(call(&w, "POST", path, "", 1, &reply), 200);
    char pin[16];
    assert_int_equal(th_json_str(th_body(reply), "pin", pin, sizeof(pin)), 0);
    free(reply);
    st = store();
    assert_int_equal(tf_store_pin_verify(st, slug, pin), 0);
    tf_store_close(&st);

    /* A second login finds the same teacher and room; logging out ends only that session. */
    assert_int_equal(login(&w2, "email=anna.lehrerin%40school.test&password=Anna-pw-1", &reply),
                     200);
    char slug2[16];
    assert_int_equal(th_json_str(th_body(reply), "slug", slug2, sizeof(slug2)), 0);
    assert_string_equal(slug2, slug);
    free(reply);
    assert_int_equal(call(&w2, "POST", "/api/logout", "", 0, &reply), 403);
    free(reply);
    assert_int_equal(call(&w2, "POST", "/api/logout", "", 1, &reply), 200);
    free(reply);
    assert_int_equal(call(&w2, "GET", "/api/me", NULL, 0, &reply), 401);
    free(reply);
    assert_int_equal(call(&w, "GET", "/api/me", NULL, 0, &reply), 200);
    free(reply);
    st = store();
    assert_int_equal(tf_store_rooms_count(st), 1);
    tf_store_close(&st);
}

static void test_refused_logins_create_nothing(void **state)
{
    web_t w = {0};
    char *reply = NULL;
    /* Wrong password: a real bind refused by slapd. */
    assert_int_equal(login(&w, "email=anna.lehrerin%40school.test&password=anna-pw-1", &reply),
                     401);
    assert_null(strstr(th_body(reply), "csrf"));
    assert_int_equal(th_header(reply, "Set-Cookie", w.cookie, sizeof(w.cookie)), -1);
    free(reply);
    /* Disabled in the directory: the password is right, the entry fails ldap-filter. */
    assert_int_equal(login(&w, "email=bernd%40school.test&password=Bernd-pw-2", &reply), 401);
    assert_int_equal(th_header(reply, "Set-Cookie", w.cookie, sizeof(w.cookie)), -1);
    free(reply);
    /* Unknown to the directory. */
    assert_int_equal(login(&w, "email=nobody%40school.test&password=Anna-pw-1", &reply), 401);
    free(reply);
    tf_store_t *st = store();
    tf_store_teacher_t t;
    assert_int_equal(tf_store_teacher_find(st, "bernd@school.test", &t), -ENOENT);
    assert_int_equal(tf_store_teacher_find(st, "nobody@school.test", &t), -ENOENT);
    tf_store_close(&st);
    /* A refused login is no session. */
    snprintf(w.cookie, sizeof(w.cookie), "tafel_session=%064d", 0);
    assert_int_equal(call(&w, "GET", "/api/me", NULL, 0, &reply), 401);
    free(reply);
}

int main(int argc, char **argv)
{
    snprintf(work, sizeof(work), "%s", argc > 1 ? argv[1] : "/tmp/tafel-test-ldap-http");
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_login_creates_teacher_and_room),
        cmocka_unit_test(test_refused_logins_create_nothing),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
