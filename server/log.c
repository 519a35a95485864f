/* log.c — timestamped log lines on stderr. The level is the one piece of process-wide state the
 * server keeps outside main.c: set once before the loop starts, read-only afterwards. */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int max_level = TF_LOG_INFO;

void tf_log_set_level(int level) { max_level = level; }

void tf_log(int level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s.%03ld %-5s %s\n", ts, now.tv_nsec / 1000000, names[level & 3], line);
}
