/* http_helper.h — for integration tests: free ports, one-shot HTTP/1.1 requests over a raw TCP
 * socket to 127.0.0.1, and starting/stopping a `tafel serve` child. Header-only (static inline),
 * shared by the test_*.c that talk to a real server; no TLS, no chunked replies. */
#ifndef TF_TEST_HTTP_HELPER_H
#define TF_TEST_HTTP_HELPER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A port the kernel just handed out on 127.0.0.1 (SOCK_STREAM or SOCK_DGRAM), closed again. */
static inline int th_free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* method path on 127.0.0.1:port; headers: extra "Name: value\r\n" lines or NULL; body or NULL
 * (sent form-encoded). Returns the status and the whole reply (headers and body) in a malloc'd
 * *reply, or -1 with *reply NULL when nothing answered. */
static inline int th_request(int port, const char *method, const char *path, const char *headers,
                             const char *body, char **reply)
{
    *reply = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t blen = body ? strlen(body) : 0;
    char *req = malloc(4096 + blen);
    int n = snprintf(req, 4096,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n%s"
                     "Content-Length: %zu\r\n%s\r\n",
                     method, path, port, headers ? headers : "", blen,
                     body ? "Content-Type: application/x-www-form-urlencoded\r\n" : "");
    if (body)
        memcpy(req + n, body, blen);
    ssize_t want = (ssize_t)((size_t)n + blen);
    int ok = write(fd, req, (size_t)want) == want;
    free(req);
    if (!ok) {
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap + 1);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[len] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return -1;
    }
    *reply = buf;
    return status;
}

/* The body of a reply from th_request ("" if none). */
static inline const char *th_body(const char *reply)
{
    const char *b = reply ? strstr(reply, "\r\n\r\n") : NULL;
    return b ? b + 4 : "";
}

/* The value of header name (case-insensitive) up to the line end, or -1. */
static inline int th_header(const char *reply, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *end = strstr(reply, "\r\n\r\n");
    for (const char *p = strstr(reply, "\r\n"); p && (!end || p < end); p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return 0;
        }
    }
    return -1;
}

/* The string value of "key": "..." in a flat JSON body (no escapes), or -1. */
static inline int th_json_str(const char *body, const char *key, char *out, size_t cap)
{
    char pat[96];
    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    const char *v = strstr(body, pat);
    if (!v)
        return -1;
    v += strlen(pat);
    const char *e = strchr(v, '"');
    if (!e)
        return -1;
    snprintf(out, cap, "%.*s", (int)(e - v), v);
    return 0;
}

/* Starts bin with argv (argv[0] is the program name; NULL-terminated), stdout and stderr to
 * log, and waits until GET /healthz on http_port answers 200. The child's pid, or -1. */
static inline pid_t th_serve_start(const char *bin, char *const argv[], const char *log,
                                   int http_port)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(bin, argv);
        _exit(127);
    }
    if (pid < 0)
        return -1;
    for (int i = 0; i < 150; i++) {
        char *reply;
        int st = th_request(http_port, "GET", "/healthz", NULL, NULL, &reply);
        free(reply);
        if (st == 200)
            return pid;
        int ws;
        if (waitpid(pid, &ws, WNOHANG) == pid)
            return -1;
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* SIGINT and wait: the exit code (0 for a clean stop), or -1 if it did not exit normally. */
static inline int th_serve_stop(pid_t pid)
{
    int st = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGINT);
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
