/* log.h — the server's logger: one line per event on stderr with time and level. Protocol
 * modules do not call this; they report through events and counters. */
#ifndef TF_LOG_H
#define TF_LOG_H

enum { TF_LOG_ERROR = 0, TF_LOG_WARN = 1, TF_LOG_INFO = 2, TF_LOG_DEBUG = 3 };

/* Lines above this level are dropped; set once at start-up by main. */
void tf_log_set_level(int level);

void tf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
