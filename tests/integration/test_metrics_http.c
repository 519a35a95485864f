/* test_metrics_http.c — starts `tafel serve` (plain HTTP on 127.0.0.1, free ports) and scrapes
 * /metrics, /readyz and /healthz over a raw TCP socket. Checks the Prometheus text format
 * strictly (every sample's family has exactly one HELP and one TYPE before it, valid names and
 * labels, numeric values, histograms cumulative with +Inf == _count) and the values of an idle
 * server (no rooms, no participants, one CPU series per worker). No browser, no media. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/http_helper.h"

#define WORKERS 2

static char work[400];
static int http_port;
static pid_t server = -1;

/* GET path; returns the status, the body in a malloc'd *body. -1 when nothing answered. */
static int http_get(const char *path, char **body)
{
    char *reply;
    int st = th_request(http_port, "GET", path, NULL, NULL, &reply);
    *body = NULL;
    if (st < 0)
        return -1;
    /* A chunked reply would need decoding; the server sends Content-Length. */
    assert_null(strcasestr(reply, "transfer-encoding: chunked"));
    *body = strdup(th_body(reply));
    free(reply);
    return st;
}

static int setup_all(void **state)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", work, work);
    if (system(cmd) != 0)
        return -1;
    http_port = th_free_port(SOCK_STREAM);
    int media_port = th_free_port(SOCK_DGRAM);
    char hp[16], mp[16], wk[16], data[512], log[512];
    snprintf(hp, sizeof(hp), "%d", http_port);
    snprintf(mp, sizeof(mp), "%d", media_port);
    snprintf(wk, sizeof(wk), "%d", WORKERS);
    snprintf(data, sizeof(data), "%s/data", work);
    snprintf(log, sizeof(log), "%s/server.log", work);
    char *const argv[] = {"tafel", "serve", "--tls", "off", "--http-port", hp, "--media-port", mp,
                          "--workers", wk, "--data-dir", data, NULL};
    server = th_serve_start(TAFEL_BIN, argv, log, http_port);
    if (server > 0)
        return 0;
    fprintf(stderr, "test_metrics: the server did not come up, see %s\n", log);
    return -1;
}

static int teardown_all(void **state)
{
    /* A clean stop (under ASan: no leak report either). */
    int st = th_serve_stop(server);
    if (st != 0) {
        fprintf(stderr, "test_metrics_http: the server did not stop cleanly (status %d)\n", st);
        return -1;
    }
    return 0;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return 0;
    return 1;
}

#define MAX_FAMILIES 128
typedef struct family {
    char name[128], type[16];
    int help, samples;
} family_t;

typedef struct scrape {
    family_t fam[MAX_FAMILIES];
    int n;
} scrape_t;

static family_t *find(scrape_t *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->fam[i].name, name))
            return &s->fam[i];
    return NULL;
}

/* The family a sample name belongs to: itself, or for histograms the name without
 * _bucket/_sum/_count. */
static family_t *family_of(scrape_t *s, const char *sample)
{
    family_t *f = find(s, sample);
    if (f)
        return f;
    static const char *suffix[] = {"_bucket", "_sum", "_count"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(sample), k = strlen(suffix[i]);
        if (n > k && !strcmp(sample + n - k, suffix[i])) {
            char base[128];
            snprintf(base, sizeof(base), "%.*s", (int)(n - k), sample);
            f = find(s, base);
            if (f && !strcmp(f->type, "histogram"))
                return f;
        }
    }
    return NULL;
}

/* Parses and checks the whole exposition; fills *s. Fails the test on any violation. */
static void check_format(char *text, scrape_t *s)
{
    memset(s, 0, sizeof(*s));
    char *save = NULL;
    int samples = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
            char name[128], rest[256] = "";
            assert_true(sscanf(line + 7, "%127s %255[^\n]", name, rest) >= 1);
            assert_true(valid_name(name, strlen(name)));
            family_t *f = find(s, name);
            if (!f) {
                assert_true(s->n < MAX_FAMILIES);
                f = &s->fam[s->n++];
                snprintf(f->name, sizeof(f->name), "%s", name);
            }
            assert_int_equal(f->samples, 0); /* metadata comes before the samples */
            if (line[2] == 'H') {
                assert_int_equal(f->help, 0);
                assert_true(rest[0] != '\0');
                f->help = 1;
            } else {
                assert_string_equal(f->type, "");
                assert_true(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
                            !strcmp(rest, "histogram"));
                snprintf(f->type, sizeof(f->type), "%s", rest);
            }
            continue;
        }
        assert_true(line[0] != '#' && line[0] != '\0');
        size_t nl = strcspn(line, "{ ");
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)nl, line);
        if (!valid_name(name, nl)) {
            fprintf(stderr, "bad sample name in '%s'\n", line);
            fail();
        }
        family_t *f = family_of(s, name);
        if (!f || !f->help || !f->type[0]) {
            fprintf(stderr, "sample without HELP/TYPE: '%s'\n", line);
            fail();
        }
        f->samples++;
        const char *p = line + nl;
        if (*p == '{') {
            /* label="value"{,label="value"} */
            p++;
            while (*p != '}') {
                size_t ln = strcspn(p, "=");
                assert_true(valid_name(p, ln) && p[ln] == '=' && p[ln + 1] == '"');
                p += ln + 2;
                while (*p && *p != '"') {
                    if (*p == '\\')
                        p++;
                    p++;
                }
                assert_int_equal(*p, '"');
                p++;
                if (*p == ',')
                    p++;
                else
                    assert_int_equal(*p, '}');
            }
            p++;
        }
        assert_int_equal(*p, ' ');
        char *end = NULL;
        double v = strtod(p + 1, &end);
        assert_true(end != p + 1 && (*end == '\0' || *end == ' '));
        assert_false(isnan(v));
        samples++;
    }
    assert_true(samples > 20);
    for (int i = 0; i < s->n; i++) {
        if (!s->fam[i].help || !s->fam[i].type[0] || !s->fam[i].samples) {
            fprintf(stderr, "family %s: help %d type '%s' samples %d\n", s->fam[i].name,
                    s->fam[i].help, s->fam[i].type, s->fam[i].samples);
            fail();
        }
    }
}

/* Value of the sample line that starts with exactly `key ` (name plus labels). */
static double value(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (!strncmp(p, key, k) && p[k] == ' ')
            return strtod(p + k + 1, NULL);
    }
    fprintf(stderr, "no sample '%s'\n", key);
    fail();
    return NAN;
}

static void check_histogram(const char *text, const char *name)
{
    char key[160];
    double prev = 0;
    int buckets = 0;
    for (const char *p = text; (p = strstr(p, name)); p++) {
        size_t n = strlen(name);
        if ((p != text && p[-1] != '\n') || strncmp(p + n, "_bucket{le=\"", 12) != 0)
            continue;
        double v = strtod(strchr(p, ' ') + 1, NULL);
        assert_true(v >= prev); /* cumulative */
        prev = v;
        buckets++;
    }
    assert_true(buckets >= 2);
    snprintf(key, sizeof(key), "%s_bucket{le=\"+Inf\"}", name);
    double inf = value(text, key);
    snprintf(key, sizeof(key), "%s_count", name);
    assert_true(inf == value(text, key) && inf == prev);
}

static void test_metrics_format_and_idle_values(void **state)
{
    char *body = NULL;
    assert_int_equal(http_get("/metrics", &body), 200);
    char *copy = strdup(body);
    scrape_t s;
    check_format(copy, &s);
    free(copy);
    printf("scraped %d metric families, %zu bytes\n", s.n, strlen(body));

    assert_true(value(body, "tafel_participants") == 0);
    assert_true(value(body, "tafel_rooms") == 0);
    assert_true(value(body, "tafel_sessions") == 0);
    assert_true(value(body, "tafel_encoders{kind=\"video\"}") == 0);
    assert_true(value(body, "tafel_workers") == WORKERS);
    static const char *hists[] = {"tafel_room_participants",
                                  "tafel_room_encoders",
                                  "tafel_participant_rtt_seconds",
                                  "tafel_participant_loss_ratio",
                                  "tafel_participant_target_bitrate_bps",
                                  "tafel_participant_receive_bitrate_bps",
                                  "tafel_participant_send_bitrate_bps"};
    for (size_t i = 0; i < sizeof(hists) / sizeof(hists[0]); i++) {
        check_histogram(body, hists[i]);
        char key[160];
        snprintf(key, sizeof(key), "%s_count", hists[i]);
        assert_true(value(body, key) == 0);
    }
    assert_string_equal(find(&s, "tafel_tier_changes_total")->type, "counter");
    assert_true(value(body, "tafel_participants_by_tier{tier=\"high\"}") == 0);
    /* One CPU series per worker thread, each a small non-negative number of seconds. */
    for (int w = 0; w < WORKERS; w++) {
        char key[64];
        snprintf(key, sizeof(key), "tafel_worker_cpu_seconds_total{worker=\"%d\"}", w);
        double v = value(body, key);
        assert_true(v >= 0 && v < 60);
    }
    assert_int_equal(find(&s, "tafel_worker_cpu_seconds_total")->samples, WORKERS);
    assert_true(value(body, "tafel_process_cpu_seconds_total") > 0);
    /* Aggregate only: no series is labelled with a room, a name or an address. */
    assert_null(strstr(body, "room=\""));
    assert_null(strstr(body, "name=\""));
    assert_null(strstr(body, "teacher"));
    free(body);

    /* A second scrape: the counters did not go down. */
    double cpu1 = 0;
    assert_int_equal(http_get("/metrics", &body), 200);
    cpu1 = value(body, "tafel_process_cpu_seconds_total");
    free(body);
    assert_int_equal(http_get("/metrics", &body), 200);
    assert_true(value(body, "tafel_process_cpu_seconds_total") >= cpu1);
    free(body);
}

static void test_readyz_and_healthz(void **state)
{
    char *body = NULL;
    assert_int_equal(http_get("/readyz", &body), 200);
    assert_non_null(strstr(body, "\"ready\": true"));
    assert_non_null(strstr(body, "\"udp\": true"));
    char want[64];
    snprintf(want, sizeof(want), "\"workers_running\": %d", WORKERS);
    assert_non_null(strstr(body, want));
    free(body);
    assert_int_equal(http_get("/healthz", &body), 200);
    free(body);
    /* Only the exact path is served. */
    assert_int_equal(http_get("/metricsx", &body), 404);
    free(body);
}

int main(int argc, char **argv)
{
    snprintf(work, sizeof(work), "%s", argc > 1 ? argv[1] : "/tmp/tafel-test-metrics");
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_format_and_idle_values),
        cmocka_unit_test(test_readyz_and_healthz),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
