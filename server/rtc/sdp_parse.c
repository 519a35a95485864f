/* sdp_parse.c — reads an SDP offer into a tf_sdp_t (RFC 8866 syntax, WebRTC attributes); it does
 * not judge whether the offer is usable (sdp_answer.c does) and never allocates. */
#include "server/rtc/sdp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A piece of the caller's buffer: not NUL-terminated. */
typedef struct span {
    const char *p;
    size_t n;
} span_t;

typedef struct parser {
    tf_sdp_t *sdp;
    tf_sdp_media_t *cur; /* NULL while in the session section */
    bool dir_set[TF_SDP_MAX_MEDIA];
    bool session_dir_set;
    tf_sdp_dir_t session_dir;
    char *err;
    size_t errlen;
} parser_t;

static int fail(parser_t *ps, int rc, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err, ps->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool span_eq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool span_ieq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

/* Splits off the next space-separated token; returns an empty span at the end. */
static span_t next_token(span_t *rest)
{
    size_t i = 0;
    while (i < rest->n && (rest->p[i] == ' ' || rest->p[i] == '\t'))
        i++;
    size_t start = i;
    while (i < rest->n && rest->p[i] != ' ' && rest->p[i] != '\t')
        i++;
    span_t tok = {rest->p + start, i - start};
    rest->p += i;
    rest->n -= i;
    return tok;
}

static span_t trim(span_t s)
{
    while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
        s.p++;
        s.n--;
    }
    while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t'))
        s.n--;
    return s;
}

/* Splits s at the first c: head before, *tail after (empty when c is absent). */
static span_t split_at(span_t s, char c, span_t *tail, bool *found)
{
    const char *q = s.n ? memchr(s.p, c, s.n) : NULL;
    if (!q) {
        tail->p = s.p + s.n;
        tail->n = 0;
        if (found)
            *found = false;
        return s;
    }
    span_t head = {s.p, (size_t)(q - s.p)};
    tail->p = q + 1;
    tail->n = s.n - head.n - 1;
    if (found)
        *found = true;
    return head;
}

/* Decimal digits only, at most max; no sign, no spaces. */
static bool span_u32(span_t s, uint32_t max, uint32_t *out)
{
    if (s.n == 0 || s.n > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Printable ASCII, spaces allowed. */
static bool printable(span_t s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || (unsigned char)s.p[i] > 0x7e)
            return false;
    return true;
}

/* Visible ASCII: no spaces or control characters. */
static bool visible(span_t s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x21 || (unsigned char)s.p[i] > 0x7e)
            return false;
    return true;
}

/* RFC 8866 token-char: visible ASCII except the separators "(),/:;<=>?@[\]. */
static bool is_token(span_t s)
{
    if (s.n == 0 || !visible(s))
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (strchr("\"(),/:;<=>?@[\\]", s.p[i]))
            return false;
    return true;
}

/* Copies s into dst[cap] when it fits (with its NUL); returns false otherwise. */
static bool copy_span(char *dst, size_t cap, span_t s)
{
    if (s.n >= cap)
        return false;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool parse_ipv4(span_t s, uint8_t out[4])
{
    span_t rest = s, part;
    for (int i = 0; i < 4; i++) {
        bool found;
        part = split_at(rest, '.', &rest, &found);
        uint32_t v;
        if (part.n > 3 || !span_u32(part, 255, &v) || found != (i < 3))
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

/* RFC 4291 §2.2 text forms, including "::" and a trailing dotted IPv4; no zone ids. */
static bool parse_ipv6(span_t s, uint8_t out[16])
{
    uint16_t head[8], tail[8];
    int nh = 0, nt = 0;
    bool gap = false;
    size_t i = 0;
    if (s.n >= 2 && s.p[0] == ':' && s.p[1] == ':') {
        gap = true;
        i = 2;
    } else if (s.n && s.p[0] == ':') {
        return false;
    }
    while (i < s.n) {
        size_t j = i;
        while (j < s.n && s.p[j] != ':' && s.p[j] != '.')
            j++;
        if (j < s.n && s.p[j] == '.') { /* embedded IPv4: must be the last piece */
            uint8_t v4[4];
            span_t rest = {s.p + i, s.n - i};
            if (nh + nt > 6 || !parse_ipv4(rest, v4))
                return false;
            uint16_t *g = gap ? tail : head;
            int *ng = gap ? &nt : &nh;
            g[(*ng)++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[(*ng)++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = s.n;
            break;
        }
        if (j == i || j - i > 4)
            return false;
        uint16_t v = 0;
        for (size_t k = i; k < j; k++) {
            int h = hexval((unsigned char)s.p[k]);
            if (h < 0)
                return false;
            v = (uint16_t)(v << 4 | h);
        }
        if (nh + nt >= 8)
            return false;
        if (gap)
            tail[nt++] = v;
        else
            head[nh++] = v;
        i = j;
        if (i == s.n)
            break;
        i++; /* skip ':' */
        if (i < s.n && s.p[i] == ':') {
            if (gap)
                return false;
            gap = true;
            i++;
        } else if (i == s.n) {
            return false; /* trailing single ':' */
        }
    }
    if (gap ? nh + nt > 7 : nh != 8)
        return false;
    uint16_t g[8] = {0};
    for (int k = 0; k < nh; k++)
        g[k] = head[k];
    for (int k = 0; k < nt; k++)
        g[8 - nt + k] = tail[k];
    for (int k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(g[k] >> 8);
        out[2 * k + 1] = (uint8_t)g[k];
    }
    return true;
}

/* Fingerprint length in bytes by hash name (RFC 8122 §5); 0 for a hash we do not know. */
static int hash_len(const char *hash)
{
    static const struct {
        const char *name;
        int len;
    } t[] = {{"sha-1", 20},   {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48},
             {"sha-512", 64}, {"md5", 16},     {"md2", 16}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(hash, t[i].name) == 0)
            return t[i].len;
    return 0;
}

static void parse_fingerprint(tf_sdp_transport_t *tr, span_t v)
{
    span_t hash = next_token(&v), value = trim(v);
    tf_sdp_fingerprint_t fp;
    if (tr->n_fingerprints >= TF_SDP_MAX_FINGERPRINTS || !is_token(hash) ||
        !copy_span(fp.hash, sizeof(fp.hash), hash) || !copy_span(fp.value, sizeof(fp.value), value))
        return;
    for (char *c = fp.hash; *c; c++)
        *c = (char)lower((unsigned char)*c);
    /* Colon-separated pairs of hex digits: "AB:CD:...". */
    if (value.n < 2 || value.n % 3 != 2)
        return;
    for (size_t i = 0; i < value.n; i++) {
        bool ok = i % 3 == 2 ? value.p[i] == ':' : hexval((unsigned char)value.p[i]) >= 0;
        if (!ok)
            return;
    }
    int want = hash_len(fp.hash);
    if (want && (int)(value.n + 1) / 3 != want)
        return;
    tr->fingerprints[tr->n_fingerprints++] = fp;
}

static tf_sdp_codec_t *find_codec(tf_sdp_media_t *m, span_t pt_text)
{
    uint32_t pt;
    if (!span_u32(pt_text, 127, &pt))
        return NULL;
    for (int i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static void parse_rtpmap(tf_sdp_media_t *m, span_t v)
{
    tf_sdp_codec_t *c = find_codec(m, next_token(&v));
    span_t enc = trim(v), rest, name, clock, chans;
    uint32_t rate, ch = 0;
    bool has_ch;
    name = split_at(enc, '/', &rest, NULL);
    clock = split_at(rest, '/', &chans, &has_ch);
    if (!c || c->name[0] || !is_token(name) || name.n >= sizeof(c->name) ||
        !span_u32(clock, UINT32_MAX, &rate) || (has_ch && !span_u32(chans, 255, &ch)))
        return;
    copy_span(c->name, sizeof(c->name), name);
    c->clock = rate;
    c->channels = (uint8_t)ch;
}

static void parse_fmtp(tf_sdp_media_t *m, span_t v)
{
    tf_sdp_codec_t *c = find_codec(m, next_token(&v));
    span_t params = trim(v);
    if (!c || c->fmtp[0] || c->fmtp_truncated)
        return;
    if (!copy_span(c->fmtp, sizeof(c->fmtp), params)) {
        c->fmtp_truncated = true;
        memcpy(c->fmtp, params.p, sizeof(c->fmtp) - 1);
        c->fmtp[sizeof(c->fmtp) - 1] = '\0';
    }
}

static void parse_rtcp_fb(tf_sdp_media_t *m, span_t v)
{
    span_t pt = next_token(&v), type = next_token(&v), param = next_token(&v);
    unsigned fb = 0;
    if (span_eq(type, "nack"))
        fb = param.n == 0 ? TF_SDP_FB_NACK : span_eq(param, "pli") ? TF_SDP_FB_PLI : 0;
    else if (span_eq(type, "ccm") && span_eq(param, "fir"))
        fb = TF_SDP_FB_FIR;
    else if (span_eq(type, "goog-remb") && param.n == 0)
        fb = TF_SDP_FB_REMB;
    else if (span_eq(type, "transport-cc") && param.n == 0)
        fb = TF_SDP_FB_TWCC;
    if (!fb)
        return;
    if (span_eq(pt, "*")) {
        for (int i = 0; i < m->n_codecs; i++)
            m->codecs[i].fb |= fb;
        return;
    }
    tf_sdp_codec_t *c = find_codec(m, pt);
    if (c)
        c->fb |= fb;
}

static bool parse_dir(span_t s, tf_sdp_dir_t *dir)
{
    static const char *const names[] = {"inactive", "sendonly", "recvonly", "sendrecv"};
    for (int i = 0; i < 4; i++)
        if (span_eq(s, names[i])) {
            *dir = (tf_sdp_dir_t)i;
            return true;
        }
    return false;
}

/* a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §5) */
static void parse_extmap(tf_sdp_media_t *m, span_t v)
{
    span_t idd = next_token(&v), uri = next_token(&v), dirs;
    bool has_dir;
    span_t id_text = split_at(idd, '/', &dirs, &has_dir);
    tf_sdp_extmap_t e = {0};
    uint32_t id;
    if (m->n_extmaps >= TF_SDP_MAX_EXTMAPS || !span_u32(id_text, 255, &id) || id == 0 || id == 15 ||
        (has_dir && !parse_dir(dirs, &e.dir)) || !visible(uri) ||
        !copy_span(e.uri, sizeof(e.uri), uri) || uri.n == 0)
        return;
    for (int i = 0; i < m->n_extmaps; i++)
        if (m->extmaps[i].id == id)
            return;
    e.id = (uint8_t)id;
    e.has_dir = has_dir;
    m->extmaps[m->n_extmaps++] = e;
}

static tf_sdp_ssrc_t *ssrc_entry(tf_sdp_media_t *m, span_t text)
{
    uint32_t ssrc;
    if (!span_u32(text, UINT32_MAX, &ssrc))
        return NULL;
    for (int i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    if (m->n_ssrcs >= TF_SDP_MAX_SSRCS)
        return NULL;
    tf_sdp_ssrc_t *s = &m->ssrcs[m->n_ssrcs++];
    memset(s, 0, sizeof(*s));
    s->ssrc = ssrc;
    return s;
}

/* a=ssrc:<ssrc> cname:<cname> — other source attributes are ignored. */
static void parse_ssrc(tf_sdp_media_t *m, span_t v)
{
    span_t id = next_token(&v), attr = trim(v), value;
    bool has_value;
    span_t name = split_at(attr, ':', &value, &has_value);
    tf_sdp_ssrc_t *s = ssrc_entry(m, id);
    if (s && span_eq(name, "cname") && has_value && visible(value) && !s->cname[0])
        copy_span(s->cname, sizeof(s->cname), value);
}

/* a=ssrc-group:FID <primary> <rtx> (RFC 5576 §4.2, RFC 4588 §8.1) */
static void parse_ssrc_group(tf_sdp_media_t *m, span_t v)
{
    span_t sem = next_token(&v), a = next_token(&v), b = next_token(&v);
    uint32_t x, y;
    if (!span_eq(sem, "FID") || !span_u32(a, UINT32_MAX, &x) || !span_u32(b, UINT32_MAX, &y) ||
        x == y)
        return;
    tf_sdp_ssrc_t *primary = ssrc_entry(m, a);
    if (!primary)
        return;
    tf_sdp_ssrc_t *rtx = ssrc_entry(m, b); /* a fixed array: primary stays valid */
    if (!rtx)
        return;
    primary->rtx_ssrc = y;
    rtx->is_rtx = true;
}

/* a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
 * (RFC 8839 §5.1) */
static void parse_candidate(tf_sdp_media_t *m, span_t v)
{
    static const char *const types[] = {"host", "srflx", "prflx", "relay"};
    span_t found = next_token(&v), comp = next_token(&v), transport = next_token(&v);
    span_t prio = next_token(&v), addr = next_token(&v), port = next_token(&v);
    span_t typ = next_token(&v), type = next_token(&v);
    tf_sdp_candidate_t c = {0};
    uint32_t comp_v, prio_v, port_v;
    if (m->n_candidates >= TF_SDP_MAX_CANDIDATES || found.n > 32 || !visible(found) ||
        !span_u32(comp, 256, &comp_v) || comp_v == 0 || !span_u32(prio, UINT32_MAX, &prio_v) ||
        !span_u32(port, 65535, &port_v) || !span_eq(typ, "typ") || !visible(addr) ||
        !copy_span(c.host, sizeof(c.host), addr) || addr.n == 0 || found.n == 0)
        return;
    if (span_ieq(transport, "udp"))
        c.udp = true;
    else if (!span_ieq(transport, "tcp"))
        return;
    int t = 0;
    while (t < 4 && !span_eq(type, types[t]))
        t++;
    if (t == 4)
        return;
    copy_span(c.foundation, sizeof(c.foundation), found);
    c.component = (uint16_t)comp_v;
    c.priority = prio_v;
    c.type = (tf_sdp_cand_t)t;
    c.addr.port = (uint16_t)port_v;
    if (parse_ipv4(addr, c.addr.ip))
        c.addr.family = TF_ADDR_V4;
    else if (parse_ipv6(addr, c.addr.ip))
        c.addr.family = TF_ADDR_V6;
    else
        memset(c.addr.ip, 0, sizeof(c.addr.ip));
    m->candidates[m->n_candidates++] = c;
}

/* Attributes that may appear at session level and in a media section. */
static int parse_transport_attr(parser_t *ps, tf_sdp_transport_t *tr, span_t name, span_t v)
{
    if (span_eq(name, "ice-ufrag") || span_eq(name, "ice-pwd")) {
        char *dst = span_eq(name, "ice-ufrag") ? tr->ice_ufrag : tr->ice_pwd;
        v = trim(v);
        if (dst[0])
            return 0; /* the first one counts */
        if (v.n == 0 || !visible(v) || !copy_span(dst, TF_SDP_ICE_LEN, v))
            return fail(ps, -EBADMSG, "bad a=%.*s value", (int)name.n, name.p);
    } else if (span_eq(name, "ice-options")) {
        v = trim(v);
        if (!tr->ice_options[0] && printable(v))
            copy_span(tr->ice_options, sizeof(tr->ice_options), v);
    } else if (span_eq(name, "fingerprint")) {
        parse_fingerprint(tr, v);
    } else if (span_eq(name, "setup")) {
        static const char *const roles[] = {"actpass", "active", "passive", "holdconn"};
        v = trim(v);
        for (int i = 0; i < 4; i++)
            if (span_eq(v, roles[i]) && tr->setup == TF_SDP_SETUP_NONE)
                tr->setup = (tf_sdp_setup_t)(TF_SDP_SETUP_ACTPASS + i);
    }
    return 0;
}

static int parse_session_attr(parser_t *ps, span_t name, span_t v)
{
    tf_sdp_t *sdp = ps->sdp;
    tf_sdp_dir_t dir;
    if (span_eq(name, "group")) {
        span_t sem = next_token(&v);
        if (!span_eq(sem, "BUNDLE") || sdp->n_bundle)
            return 0;
        for (span_t mid = next_token(&v); mid.n; mid = next_token(&v)) {
            bool dup = false;
            for (int i = 0; i < sdp->n_bundle && !dup; i++)
                dup = span_eq(mid, sdp->bundle[i]);
            if (!dup && sdp->n_bundle < TF_SDP_MAX_MEDIA && is_token(mid) &&
                copy_span(sdp->bundle[sdp->n_bundle], TF_SDP_MID_LEN, mid))
                sdp->n_bundle++;
        }
    } else if (span_eq(name, "ice-lite")) {
        sdp->ice_lite = true;
    } else if (v.n == 0 && parse_dir(name, &dir)) {
        ps->session_dir = dir;
        ps->session_dir_set = true;
    } else {
        return parse_transport_attr(ps, &sdp->tr, name, v);
    }
    return 0;
}

static int parse_media_attr(parser_t *ps, span_t name, span_t v)
{
    tf_sdp_media_t *m = ps->cur;
    int idx = (int)(m - ps->sdp->media);
    tf_sdp_dir_t dir;
    if (span_eq(name, "mid")) {
        v = trim(v);
        if (m->mid[0])
            return 0;
        if (!is_token(v))
            return fail(ps, -EBADMSG, "bad a=mid in m-section %d", idx);
        if (!copy_span(m->mid, sizeof(m->mid), v))
            return fail(ps, -E2BIG, "a=mid longer than %d characters", TF_SDP_MID_LEN - 1);
    } else if (v.n == 0 && parse_dir(name, &dir)) {
        if (!ps->dir_set[idx])
            m->dir = dir;
        ps->dir_set[idx] = true;
    } else if (span_eq(name, "rtcp-mux") || span_eq(name, "rtcp-mux-only")) {
        m->rtcp_mux = true;
    } else if (span_eq(name, "rtcp-rsize")) {
        m->rtcp_rsize = true;
    } else if (span_eq(name, "bundle-only")) {
        m->bundle_only = true;
    } else if (span_eq(name, "end-of-candidates")) {
        m->end_of_candidates = true;
    } else if (span_eq(name, "msid")) {
        span_t stream = next_token(&v), track = next_token(&v);
        if (!m->msid_stream[0] && stream.n && stream.n < TF_SDP_ID_LEN && visible(stream) &&
            track.n < TF_SDP_ID_LEN && visible(track)) {
            copy_span(m->msid_stream, sizeof(m->msid_stream), stream);
            copy_span(m->msid_track, sizeof(m->msid_track), track);
        }
    } else if (span_eq(name, "rtpmap")) {
        parse_rtpmap(m, v);
    } else if (span_eq(name, "fmtp")) {
        parse_fmtp(m, v);
    } else if (span_eq(name, "rtcp-fb")) {
        parse_rtcp_fb(m, v);
    } else if (span_eq(name, "extmap")) {
        parse_extmap(m, v);
    } else if (span_eq(name, "ssrc")) {
        parse_ssrc(m, v);
    } else if (span_eq(name, "ssrc-group")) {
        parse_ssrc_group(m, v);
    } else if (span_eq(name, "candidate")) {
        parse_candidate(m, v);
    } else {
        return parse_transport_attr(ps, &m->tr, name, v);
    }
    return 0;
}

/* Static payload types browsers still list without a=rtpmap (RFC 3551 §6). */
static void static_codec(tf_sdp_codec_t *c)
{
    static const struct {
        uint8_t pt;
        const char *name;
        uint32_t clock;
    } t[] = {{0, "PCMU", 8000}, {8, "PCMA", 8000}, {9, "G722", 8000}, {13, "CN", 8000}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].pt == c->pt) {
            snprintf(c->name, sizeof(c->name), "%s", t[i].name);
            c->clock = t[i].clock;
            c->channels = 1;
        }
}

/* m=<media> <port>[/<number>] <proto> <fmt> ... */
static int parse_m_line(parser_t *ps, span_t v)
{
    tf_sdp_t *sdp = ps->sdp;
    if (sdp->n_media >= TF_SDP_MAX_MEDIA)
        return fail(ps, -E2BIG, "offer has more than %d media sections", TF_SDP_MAX_MEDIA);
    tf_sdp_media_t *m = &sdp->media[sdp->n_media];
    span_t type = next_token(&v), ports = next_token(&v), proto = next_token(&v);
    span_t fmt = next_token(&v), count;
    span_t port = split_at(ports, '/', &count, NULL);
    uint32_t port_v;
    if (!is_token(type) || !copy_span(m->type, sizeof(m->type), type) ||
        !span_u32(port, 65535, &port_v) || !visible(proto) ||
        !copy_span(m->proto, sizeof(m->proto), proto) || !is_token(fmt) ||
        !copy_span(m->fmt0, sizeof(m->fmt0), fmt))
        return fail(ps, -EBADMSG, "bad m= line for m-section %d", sdp->n_media);
    m->port = (uint16_t)port_v;
    m->dir = TF_SDP_SENDRECV;
    m->kind = span_eq(type, "audio")         ? TF_SDP_AUDIO
              : span_eq(type, "video")       ? TF_SDP_VIDEO
              : span_eq(type, "application") ? TF_SDP_APPLICATION
                                             : TF_SDP_OTHER;
    if (strstr(m->proto, "RTP")) {
        for (; fmt.n; fmt = next_token(&v)) {
            tf_sdp_codec_t *c = find_codec(m, fmt);
            uint32_t pt;
            if (c || !span_u32(fmt, 127, &pt) || m->n_codecs >= TF_SDP_MAX_CODECS)
                continue;
            c = &m->codecs[m->n_codecs++];
            c->pt = (uint8_t)pt;
            static_codec(c);
        }
    }
    sdp->n_media++;
    ps->cur = m;
    return 0;
}

static void inherit(tf_sdp_transport_t *m, const tf_sdp_transport_t *s)
{
    if (!m->ice_ufrag[0])
        memcpy(m->ice_ufrag, s->ice_ufrag, sizeof(m->ice_ufrag));
    if (!m->ice_pwd[0])
        memcpy(m->ice_pwd, s->ice_pwd, sizeof(m->ice_pwd));
    if (!m->ice_options[0])
        memcpy(m->ice_options, s->ice_options, sizeof(m->ice_options));
    if (m->setup == TF_SDP_SETUP_NONE)
        m->setup = s->setup;
    if (m->n_fingerprints == 0) {
        m->n_fingerprints = s->n_fingerprints;
        memcpy(m->fingerprints, s->fingerprints, sizeof(m->fingerprints));
    }
}

static int parse_line(parser_t *ps, span_t line)
{
    span_t v = {line.p + 2, line.n - 2};
    if (line.p[0] == 'm')
        return parse_m_line(ps, v);
    if (line.p[0] == 'o' && !ps->cur) {
        next_token(&v); /* username */
        span_t id = next_token(&v);
        if (visible(id))
            copy_span(ps->sdp->session_id, sizeof(ps->sdp->session_id), id);
        return 0;
    }
    if (line.p[0] != 'a')
        return 0; /* s=, t=, c=, b=, ... carry nothing an answer needs */
    bool has_value;
    span_t value, name = split_at(v, ':', &value, &has_value);
    if (!has_value)
        name = trim(name);
    return ps->cur ? parse_media_attr(ps, name, value) : parse_session_attr(ps, name, value);
}

int tf_sdp_parse(tf_sdp_t *sdp, const char *buf, size_t len, char *err, size_t errlen)
{
    parser_t ps = {.sdp = sdp, .err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!sdp || (!buf && len))
        return fail(&ps, -EINVAL, "no offer");
    memset(sdp, 0, sizeof(*sdp));
    if (len && memchr(buf, '\0', len))
        return fail(&ps, -EBADMSG, "NUL byte in SDP");

    size_t pos = 0;
    bool first = true;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        span_t line = {buf + pos, nl ? (size_t)(nl - (buf + pos)) : len - pos};
        pos += line.n + 1;
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n == 0)
            continue;
        if (first) {
            if (!span_eq(line, "v=0"))
                return fail(&ps, -EBADMSG, "not SDP: the first line is not v=0");
            first = false;
            continue;
        }
        if (line.n < 2 || line.p[1] != '=')
            continue; /* not "<type>=": tolerated, like unknown types */
        int rc = parse_line(&ps, line);
        if (rc < 0)
            return rc;
    }
    if (first)
        return fail(&ps, -EBADMSG, "empty SDP");

    for (int i = 0; i < sdp->n_media; i++) {
        tf_sdp_media_t *m = &sdp->media[i];
        inherit(&m->tr, &sdp->tr);
        if (!ps.dir_set[i] && ps.session_dir_set)
            m->dir = ps.session_dir;
    }
    return 0;
}

int tf_sdp_fmtp_get(const char *fmtp, const char *key, char *val, size_t vallen)
{
    if (!fmtp || !key)
        return -EINVAL;
    span_t rest = {fmtp, strlen(fmtp)};
    while (rest.n) {
        span_t param = split_at(rest, ';', &rest, NULL), value;
        bool has_value;
        span_t k = trim(split_at(param, '=', &value, &has_value));
        if (has_value && span_ieq(k, key)) {
            value = trim(value);
            if (!val || !copy_span(val, vallen, value))
                return -ENOBUFS;
            return 0;
        }
    }
    return -ENOENT;
}
