/* store.c — teachers, rooms and audit events in SQLite, with versioned migrations and the CSV
 * import. No network, no clock, no global state; all SQL is constant text, prepared. */
#include "server/store.h"

#include <argon2.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/store_internal.h"

/* Migration n (1-based) is migrations[n - 1]. Append only: never edit an applied migration. */
static const char *const migrations[] = {
    /* 1: teachers, rooms, audit. */
    "CREATE TABLE teachers ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL,"
    "  password_hash TEXT,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE rooms ("
    "  id INTEGER PRIMARY KEY,"
    "  teacher_id INTEGER NOT NULL UNIQUE REFERENCES teachers(id) ON DELETE CASCADE,"
    "  slug TEXT NOT NULL UNIQUE,"
    "  pin_hash TEXT NOT NULL,"
    "  lobby INTEGER NOT NULL DEFAULT 1,"
    "  default_layout TEXT NOT NULL DEFAULT 'grid'"
    "    CHECK (default_layout IN ('grid', 'speaker', 'presentation')),"
    "  pupils_unmute INTEGER NOT NULL DEFAULT 1,"
    "  pupils_video INTEGER NOT NULL DEFAULT 1,"
    "  pupils_chat INTEGER NOT NULL DEFAULT 1,"
    "  max_participants INTEGER NOT NULL DEFAULT 50 CHECK (max_participants > 0));"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  room_id INTEGER REFERENCES rooms(id) ON DELETE SET NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX audit_time ON audit(time);"
    "CREATE INDEX audit_room ON audit(room_id);",
};
#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

static void set_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b);
}

static int db_err(tf_store_t *st, char *err, size_t errlen, const char *what)
{
    set_err(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
    return -EIO;
}

static int prep(tf_store_t *st, const char *sql, sqlite3_stmt **s)
{
    return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int exec(tf_store_t *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* ---- Migrations ---- */

static int current_version(tf_store_t *st)
{
    sqlite3_stmt *s;
    if (prep(st, "SELECT COALESCE(MAX(version), 0) FROM schema_version", &s) < 0)
        return -EIO;
    int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -EIO;
    sqlite3_finalize(s);
    return v;
}

static int migrate(tf_store_t *st, char *err, size_t errlen)
{
    if (exec(st, "CREATE TABLE IF NOT EXISTS schema_version ("
                 "version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)") < 0)
        return db_err(st, err, errlen, "creating schema_version");
    for (;;) {
        /* BEGIN IMMEDIATE takes the write lock before reading the version, so two processes
         * opening a new store at once cannot both apply the same migration. */
        if (exec(st, "BEGIN IMMEDIATE") < 0)
            return db_err(st, err, errlen, "starting a migration");
        int v = current_version(st);
        if (v < 0 || v > N_MIGRATIONS) {
            exec(st, "ROLLBACK");
            if (v > N_MIGRATIONS) {
                set_err(err, errlen, "%s%s", "the store was written by a newer tafel", "");
                return -EPROTO;
            }
            return db_err(st, err, errlen, "reading schema_version");
        }
        if (v == N_MIGRATIONS)
            return exec(st, "COMMIT") < 0 ? db_err(st, err, errlen, "commit") : 0;
        sqlite3_stmt *s = NULL;
        if (exec(st, migrations[v]) < 0 ||
            prep(st, "INSERT INTO schema_version(version, applied) "
                     "VALUES (?, CAST(strftime('%s', 'now') AS INTEGER))", &s) < 0) {
            int rc = db_err(st, err, errlen, "applying a migration");
            sqlite3_finalize(s);
            exec(st, "ROLLBACK");
            return rc;
        }
        sqlite3_bind_int(s, 1, v + 1);
        int ok = sqlite3_step(s) == SQLITE_DONE;
        sqlite3_finalize(s);
        if (!ok || exec(st, "COMMIT") < 0) {
            int rc = db_err(st, err, errlen, "recording a migration");
            exec(st, "ROLLBACK");
            return rc;
        }
    }
}

int tf_store_open(tf_store_t **out, const char *path, char *err, size_t errlen)
{
    *out = NULL;
    /* Create the file ourselves so it is private from the start: it holds password hashes.
     * SQLite gives its -wal and -shm files the same permissions. Only when it is new: closing
     * any descriptor of a file drops every POSIX lock this process holds on it, including the
     * locks of another connection here (the server opens one per login job), and a connection
     * that lost them lets a `tafel admin` elsewhere believe it is the last one and reset the
     * WAL under it: that connection then reads stale data. */
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
        int e = errno;
        set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (fd >= 0)
        close(fd);
    tf_store_t *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->pw_t_cost = 2;
    st->pw_m_cost_kib = 19 * 1024;
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        set_err(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto err;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_stmt *s = NULL;
    int wal = prep(st, "PRAGMA journal_mode=WAL", &s) == 0 && sqlite3_step(s) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
    sqlite3_finalize(s);
    if (!wal || exec(st, "PRAGMA foreign_keys=ON") < 0 ||
        exec(st, "PRAGMA synchronous=NORMAL") < 0) {
        db_err(st, err, errlen, path);
        goto err;
    }
    int rc = migrate(st, err, errlen);
    if (rc < 0) {
        sqlite3_close(st->db);
        free(st);
        return rc;
    }
    *out = st;
    return 0;
err:
    sqlite3_close(st->db);
    free(st);
    return -EIO;
}

void tf_store_close(tf_store_t **st)
{
    if (!*st)
        return;
    sqlite3_close((*st)->db);
    free(*st);
    *st = NULL;
}

int tf_store_schema_version(tf_store_t *st)
{
    return current_version(st);
}

void tf_store_set_password_cost(tf_store_t *st, uint32_t t_cost, uint32_t m_cost_kib)
{
    st->pw_t_cost = t_cost < 1 ? 1 : t_cost;
    st->pw_m_cost_kib = m_cost_kib < 8 ? 8 : m_cost_kib;
}

/* ---- Secrets ---- */

/* Uniform choice from n symbols by rejection sampling, so no symbol is favoured. */
static int random_string(char *out, size_t len, const char *alphabet)
{
    size_t n = strlen(alphabet), limit = 256 - 256 % n, i = 0;
    unsigned char buf[32];
    while (i < len) {
        if (RAND_bytes(buf, sizeof(buf)) != 1)
            return -EIO;
        for (size_t j = 0; j < sizeof(buf) && i < len; j++)
            if (buf[j] < limit)
                out[i++] = alphabet[buf[j] % n];
    }
    out[len] = '\0';
    return 0;
}

static void hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A PIN hash is "sha256$<salt hex>$<SHA-256(salt || pin) hex>". Six digits are 20 bits: no hash
 * survives an offline search of them, so this only keeps PINs out of casual sight (backups,
 * logs); the real protection is the online rate limit at the door. Argon2 here would cost
 * minutes per 10,000-teacher import for no real gain. */
#define PIN_HASH_CAP 128

static int pin_hash_with(char out[PIN_HASH_CAP], const char *salt_hex, const char *pin)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, salt_hex, strlen(salt_hex)) == 1 &&
             EVP_DigestUpdate(c, pin, strlen(pin)) == 1 && EVP_DigestFinal_ex(c, md, &mdlen) == 1;
    EVP_MD_CTX_free(c);
    if (!ok)
        return -EIO;
    char mdhex[65];
    hex(mdhex, md, sizeof(md));
    snprintf(out, PIN_HASH_CAP, "sha256$%s$%s", salt_hex, mdhex);
    return 0;
}

static int new_pin(char pin[TF_STORE_PIN_LEN + 1], char hash[PIN_HASH_CAP])
{
    unsigned char salt[16];
    char salt_hex[33];
    if (random_string(pin, TF_STORE_PIN_LEN, "0123456789") < 0 ||
        RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    hex(salt_hex, salt, sizeof(salt));
    return pin_hash_with(hash, salt_hex, pin);
}

static int pin_matches(const char *stored, const char *pin)
{
    char salt_hex[33], again[PIN_HASH_CAP];
    if (strncmp(stored, "sha256$", 7) != 0 || strlen(stored) != 7 + 32 + 1 + 64)
        return 0;
    memcpy(salt_hex, stored + 7, 32);
    salt_hex[32] = '\0';
    if (pin_hash_with(again, salt_hex, pin) < 0)
        return 0;
    return strlen(again) == strlen(stored) && CRYPTO_memcmp(again, stored, strlen(stored)) == 0;
}

static int password_hash(tf_store_t *st, const char *pw, char **out)
{
    unsigned char salt[16];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    size_t cap = argon2_encodedlen(st->pw_t_cost, st->pw_m_cost_kib, 1, sizeof(salt), 32,
                                   Argon2_id);
    char *enc = malloc(cap);
    if (!enc)
        return -ENOMEM;
    if (argon2id_hash_encoded(st->pw_t_cost, st->pw_m_cost_kib, 1, pw, strlen(pw), salt,
                              sizeof(salt), 32, enc, cap) != ARGON2_OK) {
        free(enc);
        return -EIO;
    }
    *out = enc;
    return 0;
}

/* ---- Validation ---- */

/* Lower-cases a plausible address into out: one '@', a local part, a dotted domain, printable
 * ASCII without spaces, commas, quotes or angle brackets. Deliberately not full RFC 5322. */
static int normalize_email(const char *in, char out[256])
{
    size_t n = strlen(in);
    if (n < 3 || n > 254)
        return -EINVAL;
    const char *at = strchr(in, '@');
    if (!at || at == in || strchr(at + 1, '@'))
        return -EINVAL;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0' || strstr(at + 1, ".."))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= ' ' || c >= 127 || strchr(",;\"<>()[]\\", c))
            return -EINVAL;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 0;
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < ' ' || name[i] == 127)
            return 0;
    return 1;
}

/* ---- Teachers and rooms ---- */

/* Inserts the teacher's room with a fresh slug and PIN. Called inside a transaction. */
static int insert_room(tf_store_t *st, sqlite3_stmt *ins, int64_t teacher_id,
                       char pin[TF_STORE_PIN_LEN + 1])
{
    char slug[TF_STORE_SLUG_LEN + 1], hash[PIN_HASH_CAP];
    if (new_pin(pin, hash) < 0)
        return -EIO;
    /* 31^8 slugs: a collision is rare even with millions of rooms; retry a few times. */
    for (int attempt = 0; attempt < 8; attempt++) {
        if (random_string(slug, TF_STORE_SLUG_LEN, TF_STORE_SLUG_ALPHABET) < 0)
            return -EIO;
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, teacher_id);
        sqlite3_bind_text(ins, 2, slug, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 3, hash, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc == SQLITE_DONE)
            return 0;
        if (rc != SQLITE_CONSTRAINT || !strstr(sqlite3_errmsg(st->db), "rooms.slug"))
            return -EIO;
    }
    return -EIO;
}

#define SQL_INSERT_TEACHER "INSERT INTO teachers(email, name, created) VALUES (?, ?, ?)"
#define SQL_INSERT_ROOM "INSERT INTO rooms(teacher_id, slug, pin_hash) VALUES (?, ?, ?)"

int tf_store_teacher_add(tf_store_t *st, const char *email, const char *name, int64_t now,
                         tf_store_teacher_t *out, char pin_out[TF_STORE_PIN_LEN + 1], char *err,
                         size_t errlen)
{
    char em[256], pin[TF_STORE_PIN_LEN + 1];
    if (normalize_email(email, em) < 0) {
        set_err(err, errlen, "bad email address '%s'%s", email, "");
        return -EINVAL;
    }
    if (!valid_name(name)) {
        set_err(err, errlen, "%s%s", "the name must be 1 to 200 printable characters", "");
        return -EINVAL;
    }
    sqlite3_stmt *t = NULL, *r = NULL;
    int rc = -EIO;
    if (exec(st, "BEGIN IMMEDIATE") < 0)
        return db_err(st, err, errlen, "begin");
    if (prep(st, SQL_INSERT_TEACHER, &t) < 0 || prep(st, SQL_INSERT_ROOM, &r) < 0) {
        rc = db_err(st, err, errlen, "prepare");
        goto done;
    }
    sqlite3_bind_text(t, 1, em, -1, SQLITE_STATIC);
    sqlite3_bind_text(t, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(t, 3, now);
    int step = sqlite3_step(t);
    if (step == SQLITE_CONSTRAINT) {
        set_err(err, errlen, "a teacher with email %s already exists%s", em, "");
        rc = -EEXIST;
        goto done;
    }
    if (step != SQLITE_DONE) {
        rc = db_err(st, err, errlen, "adding the teacher");
        goto done;
    }
    int64_t id = sqlite3_last_insert_rowid(st->db);
    if ((rc = insert_room(st, r, id, pin)) < 0) {
        db_err(st, err, errlen, "adding the room");
        goto done;
    }
    rc = exec(st, "COMMIT") < 0 ? db_err(st, err, errlen, "commit") : 0;
done:
    sqlite3_finalize(t);
    sqlite3_finalize(r);
    if (rc < 0) {
        exec(st, "ROLLBACK");
        return rc;
    }
    if (pin_out)
        memcpy(pin_out, pin, sizeof(pin));
    if (out)
        return tf_store_teacher_find(st, em, out);
    return 0;
}

int tf_store_teacher_find(tf_store_t *st, const char *email, tf_store_teacher_t *out)
{
    char em[256];
    if (normalize_email(email, em) < 0)
        return -ENOENT;
    sqlite3_stmt *s;
    if (prep(st, "SELECT id, email, name, disabled, password_hash IS NOT NULL, created "
                 "FROM teachers WHERE email = ?", &s) < 0)
        return -EIO;
    sqlite3_bind_text(s, 1, em, -1, SQLITE_STATIC);
    int step = sqlite3_step(s), rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? -ENOENT : -EIO;
    if (rc == 0) {
        memset(out, 0, sizeof(*out));
        out->id = sqlite3_column_int64(s, 0);
        copy_col(out->email, sizeof(out->email), s, 1);
        copy_col(out->name, sizeof(out->name), s, 2);
        out->disabled = sqlite3_column_int(s, 3);
        out->has_password = sqlite3_column_int(s, 4);
        out->created = sqlite3_column_int64(s, 5);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Runs a one-parameter-email UPDATE (plus an optional text/int first parameter); 0 if a row
 * changed, -ENOENT if none did. */
static int update_by_email(tf_store_t *st, const char *sql, const char *email, const char *text,
                           int num)
{
    char em[256];
    if (normalize_email(email, em) < 0)
        return -ENOENT;
    sqlite3_stmt *s;
    if (prep(st, sql, &s) < 0)
        return -EIO;
    if (text)
        sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int(s, 1, num);
    sqlite3_bind_text(s, 2, em, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(s);
    if (rc == 0 && sqlite3_changes(st->db) == 0)
        rc = -ENOENT;
    return rc;
}

int tf_store_teacher_set_disabled(tf_store_t *st, const char *email, int disabled)
{
    return update_by_email(st, "UPDATE teachers SET disabled = ? WHERE email = ?", email, NULL,
                           disabled ? 1 : 0);
}

int tf_store_password_set(tf_store_t *st, const char *email, const char *password, char *err,
                          size_t errlen)
{
    if (!password || !*password) {
        set_err(err, errlen, "%s%s", "the password is empty", "");
        return -EINVAL;
    }
    char *hash = NULL;
    int rc = password_hash(st, password, &hash);
    if (rc < 0) {
        set_err(err, errlen, "%s%s", "hashing the password failed", "");
        return rc;
    }
    rc = update_by_email(st, "UPDATE teachers SET password_hash = ? WHERE email = ?", email, hash,
                         0);
    free(hash);
    if (rc == -ENOENT)
        set_err(err, errlen, "no teacher with email %s%s", email, "");
    else if (rc < 0)
        db_err(st, err, errlen, "storing the password");
    return rc;
}

int tf_store_password_verify(tf_store_t *st, const char *email, const char *password)
{
    char em[256];
    if (normalize_email(email, em) < 0 || !password)
        return -EACCES;
    sqlite3_stmt *s;
    if (prep(st, "SELECT password_hash FROM teachers WHERE email = ? AND disabled = 0 "
                 "AND password_hash IS NOT NULL", &s) < 0)
        return -EIO;
    sqlite3_bind_text(s, 1, em, -1, SQLITE_STATIC);
    int rc = -EACCES;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *enc = (const char *)sqlite3_column_text(s, 0);
        if (enc && argon2id_verify(enc, password, strlen(password)) == ARGON2_OK)
            rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

#define SQL_ROOM_COLS                                                                          \
    "SELECT r.id, r.teacher_id, r.slug, t.email, t.name, t.disabled, r.lobby, r.default_layout, " \
    "r.pupils_unmute, r.pupils_video, r.pupils_chat, r.max_participants "                      \
    "FROM rooms r JOIN teachers t ON t.id = r.teacher_id "

static void read_room(sqlite3_stmt *s, tf_store_room_t *r)
{
    memset(r, 0, sizeof(*r));
    r->id = sqlite3_column_int64(s, 0);
    r->teacher_id = sqlite3_column_int64(s, 1);
    copy_col(r->slug, sizeof(r->slug), s, 2);
    copy_col(r->teacher_email, sizeof(r->teacher_email), s, 3);
    copy_col(r->teacher_name, sizeof(r->teacher_name), s, 4);
    r->teacher_disabled = sqlite3_column_int(s, 5);
    r->lobby = sqlite3_column_int(s, 6);
    copy_col(r->default_layout, sizeof(r->default_layout), s, 7);
    r->pupils_unmute = sqlite3_column_int(s, 8);
    r->pupils_video = sqlite3_column_int(s, 9);
    r->pupils_chat = sqlite3_column_int(s, 10);
    r->max_participants = sqlite3_column_int(s, 11);
}

static int find_room(tf_store_t *st, const char *sql, const char *key, tf_store_room_t *out)
{
    sqlite3_stmt *s;
    if (prep(st, sql, &s) < 0)
        return -EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s), rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? -ENOENT : -EIO;
    if (rc == 0)
        read_room(s, out);
    sqlite3_finalize(s);
    return rc;
}

int tf_store_room_find_slug(tf_store_t *st, const char *slug, tf_store_room_t *out)
{
    return find_room(st, SQL_ROOM_COLS "WHERE r.slug = ?", slug, out);
}

int tf_store_room_find_teacher(tf_store_t *st, const char *email, tf_store_room_t *out)
{
    char em[256];
    if (normalize_email(email, em) < 0)
        return -ENOENT;
    return find_room(st, SQL_ROOM_COLS "WHERE t.email = ?", em, out);
}

int tf_store_room_update_settings(tf_store_t *st, const tf_store_room_t *r)
{
    sqlite3_stmt *s;
    if (prep(st, "UPDATE rooms SET lobby = ?, default_layout = ?, pupils_unmute = ?, "
                 "pupils_video = ?, pupils_chat = ?, max_participants = ? WHERE slug = ?",
             &s) < 0)
        return -EIO;
    sqlite3_bind_int(s, 1, r->lobby ? 1 : 0);
    sqlite3_bind_text(s, 2, r->default_layout, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, r->pupils_unmute ? 1 : 0);
    sqlite3_bind_int(s, 4, r->pupils_video ? 1 : 0);
    sqlite3_bind_int(s, 5, r->pupils_chat ? 1 : 0);
    sqlite3_bind_int(s, 6, r->max_participants);
    sqlite3_bind_text(s, 7, r->slug, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    int rc = step == SQLITE_DONE ? (sqlite3_changes(st->db) ? 0 : -ENOENT)
             : step == SQLITE_CONSTRAINT ? -EINVAL : -EIO;
    sqlite3_finalize(s);
    return rc;
}

int tf_store_pin_reset(tf_store_t *st, const char *email, char pin_out[TF_STORE_PIN_LEN + 1])
{
    char pin[TF_STORE_PIN_LEN + 1], hash[PIN_HASH_CAP];
    if (new_pin(pin, hash) < 0)
        return -EIO;
    int rc = update_by_email(st, "UPDATE rooms SET pin_hash = ? WHERE teacher_id = "
                                 "(SELECT id FROM teachers WHERE email = ?)", email, hash, 0);
    if (rc == 0)
        memcpy(pin_out, pin, sizeof(pin));
    return rc;
}

int tf_store_pin_verify(tf_store_t *st, const char *slug, const char *pin)
{
    if (!pin || strlen(pin) != TF_STORE_PIN_LEN)
        return -EACCES;
    sqlite3_stmt *s;
    if (prep(st, "SELECT pin_hash FROM rooms WHERE slug = ?", &s) < 0)
        return -EIO;
    sqlite3_bind_text(s, 1, slug, -1, SQLITE_STATIC);
    int rc = -EACCES;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(s, 0);
        if (h && pin_matches(h, pin))
            rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int tf_store_rooms_list(tf_store_t *st, tf_store_room_cb cb, void *ud)
{
    sqlite3_stmt *s;
    if (prep(st, SQL_ROOM_COLS "ORDER BY t.email", &s) < 0)
        return -EIO;
    int rc = 0, step;
    tf_store_room_t room;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        read_room(s, &room);
        rc = cb(ud, &room);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -EIO;
    sqlite3_finalize(s);
    return rc;
}

static long count(tf_store_t *st, const char *sql)
{
    sqlite3_stmt *s;
    if (prep(st, sql, &s) < 0)
        return -EIO;
    long n = sqlite3_step(s) == SQLITE_ROW ? (long)sqlite3_column_int64(s, 0) : -EIO;
    sqlite3_finalize(s);
    return n;
}

long tf_store_rooms_count(tf_store_t *st)
{
    return count(st, "SELECT COUNT(*) FROM rooms");
}

/* ---- Audit ---- */

int tf_store_audit_add(tf_store_t *st, int64_t now, int64_t room_id, const char *actor,
                       const char *action, const char *detail)
{
    if (!actor || !action)
        return -EINVAL;
    sqlite3_stmt *s;
    if (prep(st, "INSERT INTO audit(time, room_id, actor, action, detail) VALUES (?,?,?,?,?)",
             &s) < 0)
        return -EIO;
    sqlite3_bind_int64(s, 1, now);
    if (room_id > 0)
        sqlite3_bind_int64(s, 2, room_id);
    else
        sqlite3_bind_null(s, 2);
    sqlite3_bind_text(s, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, detail ? detail : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? 0 : step == SQLITE_CONSTRAINT ? -ENOENT : -EIO;
}

long tf_store_audit_prune(tf_store_t *st, int64_t now, int retention_days)
{
    if (retention_days < 0)
        return -EINVAL;
    sqlite3_stmt *s;
    if (prep(st, "DELETE FROM audit WHERE time < ?", &s) < 0)
        return -EIO;
    sqlite3_bind_int64(s, 1, now - (int64_t)retention_days * 86400);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    return step == SQLITE_DONE ? (long)sqlite3_changes(st->db) : -EIO;
}

long tf_store_audit_count(tf_store_t *st)
{
    return count(st, "SELECT COUNT(*) FROM audit");
}

/* ---- CSV import ---- */

#define CSV_MAX_FIELDS 3
#define CSV_FIELD_CAP 512

/* Splits one line (no newline) into at most CSV_MAX_FIELDS fields, RFC 4180 quoting; the fields
 * are trimmed of surrounding blanks unless quoted. Returns the field count, or -1 with *why. */
static int csv_split(const char *line, char fields[CSV_MAX_FIELDS][CSV_FIELD_CAP],
                     const char **why)
{
    int nf = 0;
    const char *p = line;
    for (;;) {
        if (nf == CSV_MAX_FIELDS) {
            *why = "too many fields";
            return -1;
        }
        char *f = fields[nf];
        size_t n = 0;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    *why = "unterminated quote";
                    return -1;
                }
                if (*p == '"' && p[1] == '"')
                    p++;
                else if (*p == '"')
                    break;
                if (n + 1 >= CSV_FIELD_CAP) {
                    *why = "field too long";
                    return -1;
                }
                f[n++] = *p++;
            }
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ',' && *p != '\0') {
                *why = "text after a closing quote";
                return -1;
            }
        } else {
            while (*p != ',' && *p != '\0') {
                if (*p == '"') {
                    *why = "quote inside an unquoted field";
                    return -1;
                }
                if (n + 1 >= CSV_FIELD_CAP) {
                    *why = "field too long";
                    return -1;
                }
                f[n++] = *p++;
            }
            while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
                n--;
        }
        f[n] = '\0';
        nf++;
        if (*p == '\0')
            return nf;
        p++; /* the comma */
    }
}

typedef struct import_ctx {
    tf_store_t *st;
    sqlite3_stmt *find, *ins_teacher, *ins_room, *upd_name, *upd_pw, *seen;
} import_ctx_t;

static void import_finalize(import_ctx_t *c)
{
    sqlite3_finalize(c->find);
    sqlite3_finalize(c->ins_teacher);
    sqlite3_finalize(c->ins_room);
    sqlite3_finalize(c->upd_name);
    sqlite3_finalize(c->upd_pw);
    sqlite3_finalize(c->seen);
}

/* One good row. Returns 0 new, 1 updated, 2 unchanged, or a negative errno (database). */
static int import_row(import_ctx_t *c, const char *em, const char *name, const char *pw,
                      int64_t now)
{
    tf_store_t *st = c->st;
    sqlite3_reset(c->find);
    sqlite3_bind_text(c->find, 1, em, -1, SQLITE_STATIC);
    int step = sqlite3_step(c->find);
    if (step == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(c->find, 0);
        int same = strcmp((const char *)sqlite3_column_text(c->find, 1), name) == 0;
        const char *old = (const char *)sqlite3_column_text(c->find, 2);
        /* Re-importing the same password is not a change: verify costs what hashing costs. */
        if (pw && *pw && old && argon2id_verify(old, pw, strlen(pw)) == ARGON2_OK)
            pw = NULL;
        sqlite3_reset(c->find);
        int result = 2;
        if (!same) {
            sqlite3_reset(c->upd_name);
            sqlite3_bind_text(c->upd_name, 1, name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(c->upd_name, 2, id);
            if (sqlite3_step(c->upd_name) != SQLITE_DONE)
                return -EIO;
            result = 1;
        }
        if (pw && *pw) {
            char *hash = NULL;
            if (password_hash(st, pw, &hash) < 0)
                return -EIO;
            sqlite3_reset(c->upd_pw);
            sqlite3_bind_text(c->upd_pw, 1, hash, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(c->upd_pw, 2, id);
            free(hash);
            if (sqlite3_step(c->upd_pw) != SQLITE_DONE)
                return -EIO;
            result = 1;
        }
        return result;
    }
    sqlite3_reset(c->find);
    if (step != SQLITE_DONE)
        return -EIO;
    sqlite3_reset(c->ins_teacher);
    sqlite3_bind_text(c->ins_teacher, 1, em, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->ins_teacher, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->ins_teacher, 3, now);
    if (sqlite3_step(c->ins_teacher) != SQLITE_DONE)
        return -EIO;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    char pin[TF_STORE_PIN_LEN + 1];
    if (insert_room(st, c->ins_room, id, pin) < 0)
        return -EIO;
    if (pw && *pw) {
        char *hash = NULL;
        if (password_hash(st, pw, &hash) < 0)
            return -EIO;
        sqlite3_reset(c->upd_pw);
        sqlite3_bind_text(c->upd_pw, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(c->upd_pw, 2, id);
        free(hash);
        if (sqlite3_step(c->upd_pw) != SQLITE_DONE)
            return -EIO;
    }
    return 0;
}

static int header_ok(char fields[CSV_MAX_FIELDS][CSV_FIELD_CAP], int nf)
{
    static const char *const want[] = {"email", "name", "password"};
    if (nf < 2)
        return 0;
    for (int i = 0; i < nf; i++)
        if (strcasecmp(fields[i], want[i]) != 0)
            return 0;
    return 1;
}

static void reject(const tf_store_import_cb_t *cb, tf_store_import_report_t *rep, long line,
                   const char *why)
{
    rep->rejected++;
    if (cb && cb->reject)
        cb->reject(cb->ud, line, why);
}

int tf_store_import_csv(tf_store_t *st, const char *path, int64_t now,
                        const tf_store_import_cb_t *cb, tf_store_import_report_t *rep,
                        char *err, size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        set_err(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct stat sb;
    long total = fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) ? (long)sb.st_size : 0;
    import_ctx_t c = {.st = st};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0, rows = 0, bytes = 0;
    int rc = 0, have_header = 0, nf_header = 0, in_tx = 0;
    char(*fields)[CSV_FIELD_CAP] = calloc(CSV_MAX_FIELDS, CSV_FIELD_CAP);
    if (!fields) {
        fclose(f);
        return -ENOMEM;
    }
    if (exec(st, "CREATE TEMP TABLE IF NOT EXISTS import_seen(email TEXT PRIMARY KEY)") < 0 ||
        exec(st, "DELETE FROM temp.import_seen") < 0 || exec(st, "BEGIN IMMEDIATE") < 0) {
        rc = db_err(st, err, errlen, "starting the import");
        goto out;
    }
    in_tx = 1;
    if (prep(st, "SELECT id, name, password_hash FROM teachers WHERE email = ?", &c.find) < 0 ||
        prep(st, SQL_INSERT_TEACHER, &c.ins_teacher) < 0 ||
        prep(st, SQL_INSERT_ROOM, &c.ins_room) < 0 ||
        prep(st, "UPDATE teachers SET name = ? WHERE id = ?", &c.upd_name) < 0 ||
        prep(st, "UPDATE teachers SET password_hash = ? WHERE id = ?", &c.upd_pw) < 0 ||
        prep(st, "INSERT OR IGNORE INTO temp.import_seen(email) VALUES (?)", &c.seen) < 0) {
        rc = db_err(st, err, errlen, "preparing the import");
        goto out;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        bytes += len;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *text = line;
        if (lineno == 1 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
            (unsigned char)text[2] == 0xbf)
            text += 3;
        if (strspn(text, " \t") == strlen(text))
            continue; /* blank line */
        const char *why = NULL;
        int nf = csv_split(text, fields, &why);
        if (!have_header) {
            if (nf < 0 || !header_ok(fields, nf)) {
                snprintf(err, errlen, "%s:%ld: the header must be 'email,name' or "
                         "'email,name,password'", path, lineno);
                rc = -EINVAL;
                goto out;
            }
            have_header = 1;
            nf_header = nf;
            continue;
        }
        rows++;
        char em[256];
        if (nf < 0) {
            reject(cb, rep, lineno, why);
        } else if (nf != nf_header && !(nf == 2 && nf_header == 3)) {
            reject(cb, rep, lineno, nf < nf_header ? "missing fields" : "too many fields");
        } else if (fields[0][0] == '\0') {
            reject(cb, rep, lineno, "missing email");
        } else if (normalize_email(fields[0], em) < 0) {
            reject(cb, rep, lineno, "bad email");
        } else if (fields[1][0] == '\0') {
            reject(cb, rep, lineno, "missing name");
        } else if (!valid_name(fields[1])) {
            reject(cb, rep, lineno, "bad name (control characters or over 200 bytes)");
        } else {
            sqlite3_reset(c.seen);
            sqlite3_bind_text(c.seen, 1, em, -1, SQLITE_STATIC);
            if (sqlite3_step(c.seen) != SQLITE_DONE) {
                rc = db_err(st, err, errlen, "import");
                goto out;
            }
            if (sqlite3_changes(st->db) == 0) {
                reject(cb, rep, lineno, "duplicate email in this file");
            } else {
                int r = import_row(&c, em, fields[1], nf == 3 ? fields[2] : NULL, now);
                if (r < 0) {
                    snprintf(err, errlen, "%s:%ld: %s", path, lineno, sqlite3_errmsg(st->db));
                    rc = r;
                    goto out;
                }
                if (r == 0)
                    rep->imported++;
                else if (r == 1)
                    rep->updated++;
                else
                    rep->unchanged++;
            }
        }
        if (cb && cb->progress && rows % 256 == 0)
            cb->progress(cb->ud, rows, bytes, total);
    }
    if (ferror(f)) {
        int e = errno;
        set_err(err, errlen, "%s: %s", path, strerror(e));
        rc = e ? -e : -EIO;
        goto out;
    }
    if (!have_header) {
        set_err(err, errlen, "%s: empty file (no header)%s", path, "");
        rc = -EINVAL;
        goto out;
    }
    import_finalize(&c);
    memset(&c, 0, sizeof(c));
    if (exec(st, "COMMIT") < 0) {
        rc = db_err(st, err, errlen, "committing the import");
        goto out;
    }
    in_tx = 0;
    if (cb && cb->progress)
        cb->progress(cb->ud, rows, bytes, total);
out:
    import_finalize(&c);
    if (in_tx)
        exec(st, "ROLLBACK");
    exec(st, "DELETE FROM temp.import_seen");
    if (rc < 0) {
        long rejected = rep->rejected;
        memset(rep, 0, sizeof(*rep));
        rep->rejected = rejected;
    }
    free(fields);
    free(line);
    fclose(f);
    return rc;
}
