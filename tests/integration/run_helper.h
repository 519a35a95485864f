/* run_helper.h — what the integration tests that drive command-line tools share: run(), a
 * printf-formatted shell command and its exit status. Header-only. */
#ifndef TF_TESTS_RUN_HELPER_H
#define TF_TESTS_RUN_HELPER_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Runs the command through the shell: its exit status, or -1 when it did not exit normally. */
static inline int run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
