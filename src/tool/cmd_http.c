/*
 * cmd_http.c -- `tcpwave http PORT [DIR]`: a small static HTTP/1.1 server (RFC 9112) so
 * curl and browsers can talk to the stack. GET and HEAD; persistent connections by
 * default in HTTP/1.1 and on request in 1.0 (RFC 9112 9.3); requests are answered in
 * order, so pipelining works. Files are streamed from DIR through a fixed buffer, so a
 * 100 MiB body costs no more memory than a small one. Without DIR (or when DIR has no
 * index.html), "/" is a generated page describing the connection it was served on
 * (tw_socket_info) and the stack's counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tool/tool.h"

#define REQ_MAX 16384
#define OUT_BUF 65536
#define IDLE_TIMEOUT TW_SEC(60)
#define LINGER_TIMEOUT TW_SEC(10)

struct hconn {
    tw_socket *s;
    struct hconn *next;
    char req[REQ_MAX];
    size_t req_len;
    bool responding;
    uint8_t out[OUT_BUF];
    size_t out_off, out_len;
    int file_fd; /* body source: a file ... */
    uint64_t file_left;
    char *page; /* ... or a generated page */
    size_t page_len, page_off;
    bool keep_alive;
    bool closing; /* our FIN is sent; waiting for the peer's */
    bool peer_eof;
    tw_time last_active;
};

struct http {
    tw_session s;
    tw_tool *t;
    const char *dir;
    tw_socket *lsn;
    struct hconn *conns;
    unsigned long requests;
};

static const char *status_text(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 431:
        return "Request Header Fields Too Large";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".htm", "text/html; charset=utf-8"},
                 {".txt", "text/plain; charset=utf-8"},
                 {".css", "text/css"},
                 {".js", "text/javascript"},
                 {".json", "application/json"},
                 {".png", "image/png"},
                 {".jpg", "image/jpeg"},
                 {".svg", "image/svg+xml"},
                 {".pcap", "application/vnd.tcpdump.pcap"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

/* Append to the page being generated (grows by doubling; NULL page = out of memory). */
static void page_add(struct hconn *c, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void page_add(struct hconn *c, size_t *cap, const char *fmt, ...)
{
    for (int tries = 0; tries < 8 && c->page != NULL; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->page + c->page_len, *cap - c->page_len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            return;
        }
        if ((size_t)n < *cap - c->page_len) {
            c->page_len += (size_t)n;
            return;
        }
        char *p = realloc(c->page, *cap * 2);
        if (p == NULL) {
            free(c->page);
            c->page = NULL;
            return;
        }
        c->page = p;
        *cap *= 2;
    }
}

static void make_page(struct http *h, struct hconn *c)
{
    size_t cap = 4096;
    c->page = malloc(cap);
    c->page_len = 0;
    if (c->page == NULL) {
        return;
    }
    tw_socket_info i;
    memset(&i, 0, sizeof i);
    tw_socket_info_get(c->s, &i);
    char a[24], b[24];
    page_add(c, &cap,
             "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tcpwave</title></head>"
             "<body>\n<h1>tcpwave %s</h1>\n<p>A user-space TCP/IPv4 stack answered this "
             "request over a TUN device.</p>\n<h2>This connection</h2>\n<table>\n",
             TW_VERSION);
    page_add(c, &cap, "<tr><td>local</td><td>%s</td></tr>\n<tr><td>remote</td><td>%s</td></tr>\n",
             tw_fmt_endpoint(i.local_addr, i.local_port, a),
             tw_fmt_endpoint(i.remote_addr, i.remote_port, b));
    page_add(c, &cap,
             "<tr><td>state</td><td>%s</td></tr>\n<tr><td>ISS / IRS</td><td>%u / %u</td></tr>\n"
             "<tr><td>MSS sent / peer</td><td>%u / %u</td></tr>\n",
             tw_state_name(i.state), i.iss, i.irs, i.snd_mss, i.peer_mss);
    page_add(c, &cap,
             "<tr><td>window scale</td><td>%s (send %u, receive %u)</td></tr>\n"
             "<tr><td>SACK</td><td>%s</td></tr>\n<tr><td>timestamps</td><td>%s</td></tr>\n",
             i.has_wscale ? "yes" : "no", i.snd_wscale, i.rcv_wscale, i.has_sack ? "yes" : "no",
             i.has_timestamps ? "yes" : "no");
    page_add(c, &cap,
             "<tr><td>srtt / rto</td><td>%.3f ms / %.3f ms</td></tr>\n"
             "<tr><td>bytes received / acked</td><td>%llu / %llu</td></tr>\n"
             "<tr><td>retransmitted segments</td><td>%u</td></tr>\n</table>\n",
             (double)i.srtt / 1e6, (double)i.rto / 1e6, (unsigned long long)i.bytes_received,
             (unsigned long long)i.bytes_acked, i.total_retrans);
    page_add(c, &cap, "<h2>Stack counters (non-zero)</h2>\n<table>\n");
    for (int k = 0; k < TW_CNT_COUNT_; k++) {
        uint64_t v = tw_stack_counter(h->s.h.st, (enum tw_counter)k);
        if (v != 0) {
            page_add(c, &cap, "<tr><td>%s</td><td>%llu</td><td>%s</td></tr>\n",
                     tw_counter_name((enum tw_counter)k), (unsigned long long)v,
                     tw_counter_desc((enum tw_counter)k));
        }
    }
    page_add(c, &cap, "</table>\n</body></html>\n");
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decode the path of a request target into out; reject anything that could leave DIR. */
static bool clean_path(const char *target, size_t tlen, char *out, size_t cap)
{
    size_t n = 0;
    if (tlen == 0 || target[0] != '/') {
        return false;
    }
    for (size_t i = 0; i < tlen && target[i] != '?' && target[i] != '#'; i++) {
        char ch = target[i];
        if (ch == '%') {
            int hi = i + 2 < tlen ? hexval(target[i + 1]) : -1;
            int lo = i + 2 < tlen ? hexval(target[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return false;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (ch == '\0' || ch == '\\' || n + 1 >= cap) {
            return false;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    /* No ".." segment anywhere. */
    for (const char *p = out; (p = strstr(p, "..")) != NULL; p += 2) {
        bool starts = p == out || p[-1] == '/';
        bool ends = p[2] == '\0' || p[2] == '/';
        if (starts && ends) {
            return false;
        }
    }
    return true;
}

static void respond(struct http *h, struct hconn *c, int code, bool head, const char *type,
                    uint64_t length)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf((char *)c->out, sizeof c->out,
                     "HTTP/1.1 %d %s\r\nServer: tcpwave/%s\r\nDate: %s\r\n"
                     "Content-Type: %s\r\nContent-Length: %llu\r\n%sConnection: %s\r\n\r\n",
                     code, status_text(code), TW_VERSION, date, type, (unsigned long long)length,
                     code == 405 ? "Allow: GET, HEAD\r\n" : "", /* RFC 9110 15.5.6: MUST */
                     c->keep_alive ? "keep-alive" : "close");
    c->out_off = 0;
    c->out_len = n > 0 ? (size_t)n : 0;
    c->responding = true;
    h->requests++;
    if (head) {
        if (c->file_fd >= 0) {
            close(c->file_fd);
            c->file_fd = -1;
        }
        c->file_left = 0;
        c->page_off = c->page_len;
    }
}

static void error_page(struct http *h, struct hconn *c, int code, bool head)
{
    free(c->page);
    c->page = malloc(128);
    c->page_len = 0;
    c->page_off = 0;
    if (c->page != NULL) {
        int n = snprintf(c->page, 128, "%d %s\n", code, status_text(code));
        c->page_len = n > 0 ? (size_t)n : 0;
    }
    respond(h, c, code, head, "text/plain; charset=utf-8", c->page_len);
}

/* Parse one complete request head (req[0 .. end), CRLF line ends) and start its
   response. */
static void handle_request(struct http *h, struct hconn *c, char *req, size_t end)
{
    char *line_end = memchr(req, '\r', end);
    char *sp1 = memchr(req, ' ', end);
    char *sp2 =
        sp1 != NULL && line_end != NULL ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    c->keep_alive = false;
    if (line_end == NULL || sp1 == NULL || sp2 == NULL || sp1 > line_end) {
        error_page(h, c, 400, false);
        return;
    }
    const char *version = sp2 + 1;
    size_t vlen = (size_t)(line_end - version);
    bool v11 = vlen == 8 && memcmp(version, "HTTP/1.1", 8) == 0;
    bool v10 = vlen == 8 && memcmp(version, "HTTP/1.0", 8) == 0;
    if (!v10 && !v11) {
        error_page(h, c, vlen >= 5 && memcmp(version, "HTTP/", 5) == 0 ? 505 : 400, false);
        return;
    }
    /* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
    c->keep_alive = v11;
    bool has_body = false;
    for (char *p = line_end + 2; p < req + end;) {
        char *e = memchr(p, '\r', (size_t)(req + end - p));
        if (e == NULL || e == p) {
            break;
        }
        size_t len = (size_t)(e - p);
        if (len > 11 && strncasecmp(p, "connection:", 11) == 0) {
            char v[64];
            size_t vl = len - 11 < sizeof v - 1 ? len - 11 : sizeof v - 1;
            memcpy(v, p + 11, vl);
            v[vl] = '\0';
            if (strcasestr(v, "close") != NULL) {
                c->keep_alive = false;
            } else if (strcasestr(v, "keep-alive") != NULL) {
                c->keep_alive = true;
            }
        } else if ((len > 15 && strncasecmp(p, "content-length:", 15) == 0 &&
                    strtoul(p + 15, NULL, 10) != 0) ||
                   (len > 18 && strncasecmp(p, "transfer-encoding:", 18) == 0)) {
            has_body = true;
        }
        p = e + 2;
    }
    size_t mlen = (size_t)(sp1 - req);
    bool get = mlen == 3 && memcmp(req, "GET", 3) == 0;
    bool head = mlen == 4 && memcmp(req, "HEAD", 4) == 0;
    if (has_body) {
        /* We do not read request bodies; the connection cannot be reused safely. */
        c->keep_alive = false;
    }
    if (!get && !head) {
        error_page(h, c, 405, false);
        return;
    }
    if (has_body) {
        error_page(h, c, 400, head);
        return;
    }
    char path[1024];
    if (!clean_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), path, sizeof path)) {
        error_page(h, c, 400, head);
        return;
    }
    bool root = strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0;
    char full[2048];
    struct stat sb;
    if (h->dir != NULL) {
        snprintf(full, sizeof full, "%s/index.html", h->dir);
    }
    /* The generated page: without DIR, or as DIR's index when it has none. */
    if (h->dir == NULL || (root && stat(full, &sb) != 0)) {
        if (!root) {
            error_page(h, c, 404, head);
            return;
        }
        free(c->page);
        make_page(h, c);
        if (c->page == NULL) {
            error_page(h, c, 500, head);
            return;
        }
        c->page_off = 0;
        respond(h, c, 200, head, "text/html; charset=utf-8", c->page_len);
        return;
    }
    snprintf(full, sizeof full, "%s%s", h->dir, path);
    if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t fl = strlen(full);
        snprintf(full + fl, sizeof full - fl, "%sindex.html", full[fl - 1] == '/' ? "" : "/");
    }
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) {
            close(fd);
        }
        error_page(h, c, 404, head);
        return;
    }
    c->file_fd = fd;
    c->file_left = (uint64_t)sb.st_size;
    respond(h, c, 200, head, content_type(full), (uint64_t)sb.st_size);
}

/* Refill the output buffer from the body source. */
static void refill(struct hconn *c)
{
    if (c->out_off < c->out_len) {
        return;
    }
    c->out_off = 0;
    c->out_len = 0;
    if (c->file_fd >= 0 && c->file_left > 0) {
        size_t want = c->file_left < sizeof c->out ? (size_t)c->file_left : sizeof c->out;
        ssize_t r = read(c->file_fd, c->out, want);
        if (r <= 0) {
            c->file_left = 0; /* file shrank or failed: the peer sees a short body */
            c->keep_alive = false;
        } else {
            c->out_len = (size_t)r;
            c->file_left -= (uint64_t)r;
        }
    } else if (c->page != NULL && c->page_off < c->page_len) {
        size_t n = c->page_len - c->page_off;
        n = n < sizeof c->out ? n : sizeof c->out;
        memcpy(c->out, c->page + c->page_off, n);
        c->page_off += n;
        c->out_len = n;
    }
}

static bool body_done(const struct hconn *c)
{
    return c->out_off == c->out_len && (c->file_fd < 0 || c->file_left == 0) &&
           (c->page == NULL || c->page_off == c->page_len);
}

static void end_response(struct hconn *c)
{
    if (c->file_fd >= 0) {
        close(c->file_fd);
        c->file_fd = -1;
    }
    free(c->page);
    c->page = NULL;
    c->page_len = c->page_off = 0;
    c->responding = false;
}

/* The length of the request head, up to and including the empty line that ends it, or 0
   while it is incomplete. A bare LF ends a line too (RFC 9112 2.2 allows it; printf
   'GET / HTTP/1.0\n\n' | nc sends it). */
static size_t find_head_end(const struct hconn *c)
{
    for (size_t i = 0; i < c->req_len; i++) {
        if (c->req[i] != '\n') {
            continue;
        }
        size_t j = i + 1;
        if (j < c->req_len && c->req[j] == '\r') {
            j++;
        }
        if (j < c->req_len && c->req[j] == '\n') {
            return j + 1;
        }
    }
    return 0;
}

/* One connection's turn. Returns false when it is finished. */
static bool serve(struct http *h, struct hconn *c, tw_time now)
{
    unsigned ev = tw_socket_events(c->s);
    if (ev & TW_EV_ERROR) {
        tw_socket_close(c->s, now);
        return false;
    }
    /* Read while there is room; a pipelined request waits in the buffer. */
    while (!c->peer_eof && c->req_len < sizeof c->req) {
        tw_ssize r = tw_socket_recv(c->s, c->req + c->req_len, sizeof c->req - c->req_len, now);
        if (r == TW_ERR_AGAIN) {
            break;
        }
        if (r <= 0) {
            c->peer_eof = true;
            break;
        }
        c->req_len += (size_t)r;
        c->last_active = now;
    }
    for (int i = 0; i < 64; i++) {
        if (!c->responding) {
            if (c->closing) {
                break;
            }
            size_t end = find_head_end(c);
            if (end == 0) {
                if (c->req_len == sizeof c->req) {
                    c->req_len = 0;
                    c->keep_alive = false;
                    error_page(h, c, 431, false);
                } else {
                    break;
                }
            } else {
                /* the head with CRLF line ends, as handle_request reads it */
                char head[2 * sizeof c->req];
                size_t hl = 0;
                for (size_t k = 0; k < end; k++) {
                    if (c->req[k] == '\n' && (k == 0 || c->req[k - 1] != '\r')) {
                        head[hl++] = '\r';
                    }
                    head[hl++] = c->req[k];
                }
                handle_request(h, c, head, hl);
                memmove(c->req, c->req + end, c->req_len - end);
                c->req_len -= end;
            }
        }
        refill(c);
        if (c->out_off < c->out_len) {
            tw_ssize w = tw_socket_send(c->s, c->out + c->out_off, c->out_len - c->out_off, now);
            if (w == TW_ERR_AGAIN) {
                break;
            }
            if (w < 0) {
                tw_socket_abort(c->s, now);
                return false;
            }
            c->out_off += (size_t)w;
            c->last_active = now;
            continue;
        }
        if (body_done(c)) {
            end_response(c);
            if (!c->keep_alive) {
                tw_socket_shutdown(c->s, TW_SHUT_WR, now);
                c->closing = true;
                c->last_active = now;
            }
        }
    }
    bool idle =
        !c->responding && now - c->last_active > (c->closing ? LINGER_TIMEOUT : IDLE_TIMEOUT);
    if ((c->peer_eof && !c->responding) || idle) {
        /* Graceful close (FIN) unless the peer left unread bytes behind (then RST, R4). */
        tw_socket_close(c->s, now);
        return false;
    }
    return true;
}

static void step(struct http *h)
{
    tw_time now = tw_host_now();
    for (int i = 0; i < 1024; i++) {
        tw_socket *s;
        if (tw_socket_accept(h->lsn, &s, now) != TW_OK) {
            break;
        }
        struct hconn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            tw_socket_abort(s, now);
            continue;
        }
        c->s = s;
        c->file_fd = -1;
        c->last_active = now;
        c->next = h->conns;
        h->conns = c;
    }
    for (struct hconn **pp = &h->conns; *pp != NULL;) {
        struct hconn *c = *pp;
        if (serve(h, c, now)) {
            pp = &c->next;
        } else {
            *pp = c->next;
            end_response(c);
            free(c);
        }
    }
}

static const char http_usage[] = "tcpwave [OPTIONS] http PORT [DIR]";
static const char http_help[] =
    "Serve files from DIR over HTTP/1.1 on PORT at the stack's address (GET and HEAD,\n"
    "keep-alive, pipelining). Without DIR (or when DIR has no index.html), / is a generated\n"
    "page about the connection and the stack's counters. Runs until interrupted.\n"
    "Example: tcpwave http 8080 . &  curl -O http://10.7.0.2:8080/file\n"
    "Other global options: tcpwave --help.\n";

int tw_cmd_http(tw_tool *t, int argc, char **argv)
{
    static struct http h;
    memset(&h, 0, sizeof h);
    h.t = t;
    int first;
    int rc = tw_cmd_args(t, argc, argv, http_usage, http_help, NULL, NULL, NULL, &first);
    if (rc < 0) {
        return TW_ARGS_EXIT(rc);
    }
    int npos = argc - first;
    uint16_t port;
    if (npos < 1 || npos > 2) {
        return tw_usage_error(t, http_usage, "expected PORT [DIR]");
    }
    if (tw_parse_port(argv[first], &port) < 0) {
        return tw_usage_error(t, http_usage, "bad port '%s' (1..65535)", argv[first]);
    }
    if (npos == 2) {
        struct stat sb;
        h.dir = argv[first + 1];
        if (stat(h.dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            return tw_usage_error(t, http_usage, "'%s' is not a directory", h.dir);
        }
    }
    rc = tw_session_open(&h.s, t);
    if (rc != TW_EXIT_OK) {
        return rc;
    }
    int trc = tw_socket_open(h.s.h.st, &h.lsn);
    if (trc == TW_OK) {
        trc = tw_socket_bind(h.lsn, port);
    }
    if (trc == TW_OK) {
        trc = tw_socket_listen(h.lsn, 1024, tw_host_now());
        if (trc == TW_OK && t->fastopen) {
            trc = tw_socket_set_fastopen(h.lsn, 1024); /* RFC 7413 */
        }
    }
    if (trc != TW_OK) {
        tw_session_close(&h.s);
        return tw_fail(t, "listen on port %u: %s", port, tw_strerror(trc));
    }
    if (t->verbose) {
        char ep[24];
        fprintf(stderr, "tcpwave: listening on %s (%s)\n", tw_fmt_endpoint(t->host.addr, port, ep),
                h.s.h.ifname);
    }
    while (!tw_tool_stop) {
        tw_session_turn(&h.s, TW_SEC(1));
        step(&h);
    }
    tw_session_drain(&h.s);
    step(&h);
    while (h.conns != NULL) {
        struct hconn *c = h.conns;
        h.conns = c->next;
        tw_socket_abort(c->s, tw_host_now());
        end_response(c);
        free(c);
    }
    fprintf(stderr, "http: %lu requests served\n", h.requests);
    tw_session_close(&h.s);
    return TW_EXIT_OK;
}
