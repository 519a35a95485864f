/* log.h — the server's logger: one line per event on stderr with time and level. Protocol
 * modules do not call this; they report through events and counters. */
#ifndef TF_LOG_H
#define TF_LOG_H

enum { TF_LOG_ERROR = 0, TF_LOG_WARN = 1, TF_LOG_INFO = 2, TF_LOG_DEBUG = 3 };

/* Lines above this level are dropped; set once at start-up by main. */
void tf_log_set_level(int level);

void tf_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Personal data in log lines (docs/privacy.md). Off by default (config log-personal-data):
 * callers pass person-related values through these helpers, which then mask them. Each returns
 * a thread-local buffer that stays valid for the next 7 calls of these helpers on the thread. */
void tf_log_set_personal_data(int on);
/* An IP address (optionally ":port"): as is when on; off: the network only, the host part
 * replaced by x ("192.0.2.x" for /24, "2001:db8:1::x" for /48), no port. */
const char *tf_log_addr(const char *addr);
/* A room name or personal-room link: as is when on; off: "room-" and 8 hex digits of an HMAC
 * under a key drawn at start-up, so the lines of one room can be followed within one run of the
 * server but not linked to a room (or a teacher) from the log alone. */
const char *tf_log_room(const char *room);
/* A person's display name or e-mail: as is when on; "-" when off. */
const char *tf_log_name(const char *name);
/* A request path: as is when on; off: every segment that may carry a room, a session or a
 * name is replaced by a tf_log_room pseudonym ("/whip/room-1a2b3c4d/..."). */
const char *tf_log_path(const char *path);
/* Masks every dotted IPv4 address inside line in place (for library messages), when off. */
void tf_log_scrub_line(char *line);

#endif
