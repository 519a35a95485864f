/* api_auth.c — teacher login (local accounts; LDAP when configured), logout and "who am I" over
 * cookie sessions, plus the accounts layer's shared state and routing (api.h). Password checks
 * run on the libuv thread pool with their own store connection: Argon2id takes tens of
 * milliseconds and must not stall media. Not here: rooms, lobby, moderation (api_rooms.c).
 *
 * Cookies: the session cookie is HttpOnly, Secure over HTTPS, SameSite=Strict. Strict is
 * possible because no page needs the cookie on a cross-site navigation: every page is static
 * and asks /api/me with a same-origin fetch, which carries Strict cookies. The one cross-site
 * request of a login, an OpenID Connect form_post to the callback, creates the session rather
 * than needing one, and answers with a page that moves on by a same-origin navigation.
 * CSRF: a synchronizer token per session, required as X-CSRF-Token on every state-changing
 * request, plus an Origin check (a present Origin must name this host). */
#include "server/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "server/api_internal.h"
#include "server/auth_ldap.h"
#include "server/form.h"
#include "server/log.h"

int64_t tf__api_now(void)
{
    return (int64_t)time(NULL);
}

void tf__api_json(tf_http_reply_t *out, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    out->status = status;
    out->content_type = "application/json";
    out->body = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!out->body) {
        out->status = 500;
        out->len = 0;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(out->body, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out->len = (size_t)n;
}

int tf__api_origin_ok(const tf_http_request_t *req)
{
    if (!req->origin || !req->origin[0])
        return 1; /* not a browser's cross-site request: the CSRF token still has to match */
    const char *o = req->origin, *sep = strstr(o, "://");
    if (!sep || !req->host || !req->host[0])
        return 0; /* "null" and other opaque origins */
    return strcasecmp(sep + 3, req->host) == 0;
}

tf_websession_t *tf__api_session(tf_api_t *api, const tf_http_request_t *req)
{
    char id[TF_WEBSESSION_ID_LEN + 1];
    if (!api->sessions || tf_cookie_get(req->cookie, TF_WEBSESSION_COOKIE, id, sizeof(id)) < 0)
        return NULL;
    return tf_websession_find(api->sessions, id, tf__api_now());
}

static int server_random(uint8_t *buf, size_t len)
{
    return tf_server_random(buf, len);
}

/* Moderation audit events older than audit-retention-days go, at start and then once a day,
 * on the loop thread that owns api->store. With 0 none are kept: api_rooms.c writes none and
 * this deletes whatever an earlier run with a longer retention left. */
static void audit_prune(tf_api_t *api)
{
    long n = tf_store_audit_prune(api->store, tf__api_now(), api->srv->cfg.audit_retention_days);
    if (n < 0)
        tf_log(TF_LOG_WARN, "audit: pruning events older than %d days failed",
               api->srv->cfg.audit_retention_days);
    else if (n > 0)
        tf_log(TF_LOG_INFO, "audit: %ld events older than %d days deleted", n,
               api->srv->cfg.audit_retention_days);
}

static void on_audit_timer(uv_timer_t *t)
{
    audit_prune(t->data);
}

int tf_api_store_check(tf_api_t *api)
{
    if (!api || !api->store)
        return -ENOENT;
    return tf_store_schema_version(api->store) > 0 ? 0 : -EIO;
}

int tf_api_create(tf_api_t **out, tf_server_t *srv)
{
    *out = NULL;
    tf_api_t *api = calloc(1, sizeof(*api));
    if (!api)
        return -ENOMEM;
    api->srv = srv;
    api->cap_people = srv->cfg.max_sessions > 0 ? srv->cfg.max_sessions : 500;
    api->people = calloc((size_t)api->cap_people, sizeof(*api->people));
    const tf_websession_config_t wc = {.capacity = 4096,
                                       .idle_s = TF_API_SESSION_IDLE_S,
                                       .absolute_s = TF_API_SESSION_ABSOLUTE_S,
                                       .random = server_random};
    const tf_ratelimit_config_t pin = {TF_API_PIN_TRIES, TF_API_PIN_WINDOW_S, 4096};
    const tf_ratelimit_config_t room = {TF_API_PIN_ROOM_TRIES, TF_API_PIN_WINDOW_S, 4096};
    const tf_ratelimit_config_t any = {TF_API_PIN_ADDR_TRIES, TF_API_PIN_WINDOW_S, 4096};
    const tf_ratelimit_config_t login = {TF_API_LOGIN_TRIES, TF_API_PIN_WINDOW_S, 4096};
    const tf_lobby_config_t lc = {
        .capacity = 2048, .wait_s = 30, .token_ttl_s = 120, .random = server_random};
    int rc = -ENOMEM;
    if (!api->people || tf_websession_table_create(&api->sessions, &wc) < 0 ||
        tf_ratelimit_create(&api->pin_addr, &pin) < 0 ||
        tf_ratelimit_create(&api->pin_room, &room) < 0 ||
        tf_ratelimit_create(&api->pin_any, &any) < 0 ||
        tf_ratelimit_create(&api->login_addr, &login) < 0 || tf_lobby_create(&api->lobby, &lc) < 0)
        goto err;
    if (srv->cfg.auth) {
        if (mkdir(srv->cfg.data_dir, 0700) < 0 && errno != EEXIST) {
            rc = -errno;
            tf_log(TF_LOG_ERROR, "cannot create data-dir %s: %s", srv->cfg.data_dir,
                   strerror(errno));
            goto err;
        }
        snprintf(api->db_path, sizeof(api->db_path), "%s/tafel.db", srv->cfg.data_dir);
        char err[256] = "";
        if ((rc = tf_store_open(&api->store, api->db_path, err, sizeof(err))) < 0) {
            tf_log(TF_LOG_ERROR, "cannot open %s: %s", api->db_path, err);
            goto err;
        }
        tf_log(TF_LOG_INFO, "accounts: %ld personal rooms in %s", tf_store_rooms_count(api->store),
               api->db_path);
        if ((rc = tf__api_oidc_start(api)) < 0)
            goto err;
        audit_prune(api);
        /* Unreferenced: the timer alone does not keep the loop (and the server) running. */
        uv_timer_init(srv->loop, &api->audit_timer);
        api->audit_timer.data = api;
        api->audit_timer_on = 1;
        uv_timer_start(&api->audit_timer, on_audit_timer, 86400 * 1000ull, 86400 * 1000ull);
        uv_unref((uv_handle_t *)&api->audit_timer);
    }
    *out = api;
    return 0;
err:
    tf_api_destroy(&api);
    return rc;
}

void tf_api_destroy(tf_api_t **ap)
{
    tf_api_t *api = *ap;
    if (!api)
        return;
    *ap = NULL;
    if (api->audit_timer_on) {
        /* The handle lives in api: finish closing it before api is freed. */
        uv_close((uv_handle_t *)&api->audit_timer, NULL);
        uv_run(api->srv->loop, UV_RUN_NOWAIT);
    }
    tf_store_close(&api->store);
    tf_websession_table_destroy(&api->sessions);
    tf_ratelimit_destroy(&api->pin_addr);
    tf_ratelimit_destroy(&api->pin_room);
    tf_ratelimit_destroy(&api->pin_any);
    tf_ratelimit_destroy(&api->login_addr);
    tf_lobby_destroy(&api->lobby);
    tf_lobby_destroy(&api->oidc_states);
    tf_oidc_destroy(&api->oidc);
    free(api->people);
    free(api);
}

/* ---- login on the thread pool ---- */

typedef struct login_job {
    uv_work_t work;
    tf_api_t *api;
    tf_http_async_t *async;
    char email[256], password[1024], peer[64];
    int tls;
    int rc;
    char why[256];
    tf_store_teacher_t teacher;
    tf_store_room_t room;
} login_job_t;

/* A directory login: the teacher exists in the store from now on (their room with them). */
static int login_ldap(login_job_t *j, tf_store_t *st)
{
    tf_identity_t id;
    int rc = tf_ldap_login(&j->api->srv->cfg, j->email, j->password, &id, j->why, sizeof(j->why));
    if (rc < 0)
        return rc == -EACCES ? -EACCES : -EIO;
    rc = tf_store_teacher_find(st, id.email, &j->teacher);
    if (rc == -ENOENT) {
        char err[256];
        rc = tf_store_teacher_add(st, id.email, id.name[0] ? id.name : id.email, tf__api_now(),
                                  &j->teacher, NULL, err, sizeof(err));
        if (rc == -EEXIST) /* another login raced us */
            rc = tf_store_teacher_find(st, id.email, &j->teacher);
    }
    return rc < 0 ? -EIO : 0;
}

static void login_work(uv_work_t *w)
{
    login_job_t *j = w->data;
    tf_store_t *st = NULL;
    char err[256] = "";
    if (tf_store_open(&st, j->api->db_path, err, sizeof(err)) < 0) {
        j->rc = -EIO;
        snprintf(j->why, sizeof(j->why), "store: %s", err);
        return;
    }
    j->rc = tf_store_password_verify(st, j->email, j->password);
    if (j->rc == 0)
        j->rc = tf_store_teacher_find(st, j->email, &j->teacher);
    else if (j->api->srv->cfg.ldap_uri[0])
        j->rc = login_ldap(j, st);
    if (j->rc == 0 && j->teacher.disabled)
        j->rc = -EACCES;
    if (j->rc == 0 && tf_store_room_find_teacher(st, j->teacher.email, &j->room) < 0)
        j->rc = -EIO;
    tf_store_close(&st);
}

static void login_done(uv_work_t *w, int status)
{
    login_job_t *j = w->data;
    tf_api_t *api = j->api;
    tf_http_reply_t r = {0};
    char key[TF_RATELIMIT_KEY_MAX];
    snprintf(key, sizeof(key), "login:%s", j->peer);
    tf_websession_t *s = NULL;
    if (status < 0 || j->rc == -EIO) {
        tf_log(TF_LOG_WARN, "login failed: %s", j->why[0] ? j->why : "internal error");
        tf_http_json_error(&r, 503, "login-unavailable", "the login service is not available");
    } else if (j->rc < 0) {
        long wait = tf_ratelimit_fail(api->login_addr, key, tf__api_now());
        tf_http_json_error(&r, 401, "wrong-credentials", "e-mail or password is wrong");
        r.retry_after = wait;
    } else if (tf_websession_create(api->sessions, tf__api_now(), j->teacher.id, j->teacher.email,
                                    &s) < 0) {
        tf_http_json_error(&r, 500, "no-session", "");
    } else {
        tf_ratelimit_reset(api->login_addr, key);
        char name[600], email[600];
        tf_json_escape(name, sizeof(name), j->teacher.name);
        tf_json_escape(email, sizeof(email), j->teacher.email);
        tf__api_json(&r, 200,
                     "{\"auth\": 1, \"email\": \"%s\", \"name\": \"%s\", "
                     "\"slug\": \"%s\", \"csrf\": \"%s\"}\n",
                     email, name, j->room.slug, s->csrf);
        tf_cookie_format(r.set_cookie, sizeof(r.set_cookie), TF_WEBSESSION_COOKIE, s->id, -1,
                         j->tls);
    }
    memset(j->password, 0, sizeof(j->password));
    tf_http_finish(j->async, &r);
    free(j);
}

static int login(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    if (!tf__api_origin_ok(req)) {
        tf_http_json_error(out, 403, "bad-origin", "cross-site requests are refused");
        return 1;
    }
    char key[TF_RATELIMIT_KEY_MAX];
    snprintf(key, sizeof(key), "login:%s", req->peer);
    long wait = tf_ratelimit_check(api->login_addr, key, tf__api_now());
    if (wait > 0) {
        tf_http_json_error(out, 429, "too-many-attempts", "too many failed logins: wait");
        out->retry_after = wait;
        return 1;
    }
    login_job_t *j = calloc(1, sizeof(*j));
    if (!j) {
        tf_http_json_error(out, 500, "out-of-memory", "");
        return 1;
    }
    if (tf_form_get(req->body, req->len, "email", j->email, sizeof(j->email)) < 0 ||
        tf_form_get(req->body, req->len, "password", j->password, sizeof(j->password)) < 0 ||
        !j->email[0] || !j->password[0]) {
        free(j);
        tf_http_json_error(out, 400, "bad-request", "send email and password (form-encoded)");
        return 1;
    }
    j->api = api;
    j->tls = req->tls;
    snprintf(j->peer, sizeof(j->peer), "%s", req->peer);
    j->work.data = j;
    if (uv_queue_work(srv->loop, &j->work, login_work, login_done) < 0) {
        memset(j->password, 0, sizeof(j->password));
        free(j);
        tf_http_json_error(out, 500, "no-worker", "");
        return 1;
    }
    j->async = tf_http_defer(req); /* login_done answers through it */
    if (!j->async)
        tf_http_json_error(out, 500, "out-of-memory", "");
    return 1;
}

static int me(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    if (!srv->cfg.auth) {
        tf__api_json(out, 200, "{\"auth\": 0}\n");
        return 1;
    }
    int oidc = api->oidc != NULL;
    tf_websession_t *s = tf__api_session(api, req);
    tf_store_teacher_t t;
    tf_store_room_t room;
    if (!s || tf_store_teacher_find(api->store, s->email, &t) < 0 || t.disabled ||
        tf_store_room_find_teacher(api->store, s->email, &room) < 0) {
        tf__api_json(out, 401, "{\"auth\": 1, \"oidc\": %d, \"error\": \"not-logged-in\"}\n", oidc);
        return 1;
    }
    char name[600], email[600];
    tf_json_escape(name, sizeof(name), t.name);
    tf_json_escape(email, sizeof(email), t.email);
    tf__api_json(out, 200,
                 "{\"auth\": 1, \"email\": \"%s\", \"name\": \"%s\", \"slug\": \"%s\", "
                 "\"csrf\": \"%s\"}\n",
                 email, name, room.slug, s->csrf);
    return 1;
}

static int logout(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    tf_api_t *api = srv->api;
    tf_websession_t *s = tf__api_session(api, req);
    if (!s) {
        tf_http_json_error(out, 401, "not-logged-in", "");
        return 1;
    }
    if (!tf__api_origin_ok(req) || !tf_websession_csrf_ok(s, req->csrf)) {
        tf_http_json_error(out, 403, "csrf", "missing or wrong X-CSRF-Token");
        return 1;
    }
    tf_websession_delete(api->sessions, s->id);
    tf__api_json(out, 200, "{\"ok\": true}\n");
    tf_cookie_format(out->set_cookie, sizeof(out->set_cookie), TF_WEBSESSION_COOKIE, "", 0,
                     req->tls);
    return 1;
}

int tf__api_auth_route(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    int post = !strcmp(req->method, "POST"), get = !strcmp(req->method, "GET");
    if (!strcmp(req->path, "/api/me") && get)
        return me(srv, req, out);
    if (!strcmp(req->path, "/api/login") || !strcmp(req->path, "/api/logout")) {
        if (!post) {
            tf_http_json_error(out, 405, "method-not-allowed", "POST");
            return 1;
        }
        if (!srv->cfg.auth) {
            tf_http_json_error(out, 404, "auth-off", "development mode has no accounts");
            return 1;
        }
        return req->path[5] == 'l' && req->path[8] == 'i' ? login(srv, req, out)
                                                          : logout(srv, req, out);
    }
    return 0;
}

int tf_api_handle(tf_server_t *srv, const tf_http_request_t *req, tf_http_reply_t *out)
{
    if (!srv->api)
        return 0;
    if (tf__api_auth_route(srv, req, out) || tf__api_oidc_route(srv, req, out) ||
        tf__api_support_route(srv, req, out))
        return 1;
    return tf__api_rooms_route(srv, req, out);
}
