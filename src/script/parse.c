/*
 * parse.c -- lexer, preprocessor and recursive-descent parser for packetdrill scripts.
 *
 * Owns: turning script text into the tw_sc_script of ast.h.
 * Grammar: packetdrill's (google/packetdrill gtests/net/packetdrill/lexer.l and parser.y),
 * written again from its description:
 *   - tokens: numbers (longest match between float, integer, hex, word and IPv4 address,
 *     as flex does), words, "strings", `commands`, %{ code }%, `...`, --options, and
 *     single characters; // and C comments;
 *   - header options, an optional command, timed events, an optional final command;
 *   - event times: 0.1, +0.1, *, a~b, +a~+b; packets, syscalls, commands, code.
 * Additions: FreeBSD-style `#ifdef NAME` / `#ifndef` / `#else` / `#endif` lines and -D
 * symbols (substituted for words, as packetdrill's --define does); `...(len)` for "any
 * sequence number"; tcpwave's `state`, `counter`, `deadline` lines and the `with ...`
 * mutation clause on inbound packets.
 * Not handled: UDP, ICMP, GRE, MPLS and IPv6 packets, packet fuzzing `{...}`, AccECN ACE
 * fields: the script is marked SKIP with the reason.
 */
#define _POSIX_C_SOURCE 200809L
#include "script/ast.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers --------------------------------------------------------------------- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "tcpwave script: out of memory\n");
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL) {
        fprintf(stderr, "tcpwave script: out of memory\n");
        abort();
    }
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xcalloc(n + 1, 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* Append one element to a growing array: `arr` has `n` elements, and is made and grown
   only here. Its room doubles whenever n reaches a power of two (so the room is the next
   power of two at or above n, no field needed): growing one element at a time cost a copy
   of the whole array per element, quadratic where realloc cannot extend in place (the
   sanitizers' allocator: a fuzz input of many tokens took most of a minute). */
#define PUSH(arr, n, val)                                                                  \
    do {                                                                                   \
        if (((n) & ((n) - 1)) == 0) {                                                      \
            (arr) = xrealloc((arr), ((n) ? 2 * (n) : 1) * sizeof(*(arr)));                 \
        }                                                                                  \
        (arr)[(n)++] = (val);                                                              \
    } while (0)

/* ---- tokens ---------------------------------------------------------------------------- */

typedef enum tk_kind {
    TK_EOF,
    TK_INT,
    TK_FLOAT,
    TK_HEX,
    TK_WORD,
    TK_STRING,
    TK_BACKQ,
    TK_CODE,
    TK_IPV4,
    TK_ELLIPSIS,
    TK_OPTION,
    TK_CHAR,
} tk_kind;

typedef struct token {
    tk_kind kind;
    int line;
    char *text;   /* raw text (INT/FLOAT/HEX/WORD/IPV4), content (STRING/BACKQ/CODE),
                     option name (OPTION), the character (CHAR) */
    char *value;  /* OPTION value after '=', or NULL */
    int64_t i;
    double f;
    int c;
    size_t off, end; /* where the token was written in the (preprocessed) text; the tokens
                        of a -D value substituted for a word span that word */
} token;

typedef struct lexer {
    const char *path;
    char *buf;          /* preprocessed text */
    size_t pos, len;
    int line;
    token *toks;
    size_t n_toks;
    tw_sc_define *defs;
    size_t n_defs;
    size_t n_substituted; /* bytes of -D values lexed so far (capped: lex_value) */
    char *err;
    size_t errlen;
    bool failed;
} lexer;

static void lex_error(lexer *lx, int line, const char *fmt, ...)
{
    if (lx->failed) {
        return;
    }
    lx->failed = true;
    int n = snprintf(lx->err, lx->errlen, "%s:%d: parse error: ", lx->path, line);
    if (n < 0 || (size_t)n >= lx->errlen) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static const char *def_lookup(const lexer *lx, const char *name)
{
    /* Later definitions win, as a later --define would. */
    for (size_t i = lx->n_defs; i-- > 0;) {
        if (strcmp(lx->defs[i].name, name) == 0) {
            return lx->defs[i].value;
        }
    }
    return NULL;
}

static void def_add(lexer *lx, const char *spec)
{
    const char *eq = strchr(spec, '=');
    tw_sc_define d;
    if (eq != NULL) {
        d.name = xstrndup(spec, (size_t)(eq - spec));
        d.value = xstrdup(eq + 1);
    } else {
        d.name = xstrdup(spec);
        d.value = xstrdup("1");
    }
    PUSH(lx->defs, lx->n_defs, d);
}

/*
 * Preprocessor: FreeBSD's scripts guard platform-specific lines with #ifdef. Lines of an
 * inactive region, and the directive lines themselves, are blanked so that line numbers
 * stay those of the file. `--define=NAME=value` header lines define symbols on the way.
 */
static void preprocess(lexer *lx)
{
    enum { MAX_DEPTH = 32 };
    bool active[MAX_DEPTH];
    bool seen_else[MAX_DEPTH];
    int depth = 0;
    int line = 1;
    /* Inside a %{ ... }% block (Python) or a `...` command (shell), a line that starts
       with '#' is that language's comment, not a directive: packetdrill's own scripts
       carry such comments in their assertion blocks. */
    bool in_code = false, in_shell = false;
    char *p = lx->buf;
    while (*p != '\0') {
        char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char *s = p;
        while (s < p + n && (*s == ' ' || *s == '\t')) {
            s++;
        }
        bool on = true;
        for (int i = 0; i < depth; i++) {
            on = on && active[i];
        }
        bool directive = false;
        bool embedded = in_code || in_shell;
        if (!(s + 1 < p + n && s[0] == '/' && s[1] == '/')) {
            for (const char *c = s; c < p + n; c++) {
                if (!in_shell && c + 1 < p + n && c[0] == '%' && c[1] == '{') {
                    in_code = true;
                    c++;
                } else if (in_code && c + 1 < p + n && c[0] == '}' && c[1] == '%') {
                    in_code = false;
                    c++;
                } else if (!in_code && *c == '`') {
                    in_shell = !in_shell;
                }
            }
        }
        if (*s == '#' && !embedded) {
            char word[16] = {0};
            char name[128] = {0};
            sscanf(s + 1, "%15[a-z] %127[A-Za-z0-9_]", word, name);
            directive = true;
            if (strcmp(word, "ifdef") == 0 || strcmp(word, "ifndef") == 0) {
                if (depth == MAX_DEPTH) {
                    lex_error(lx, line, "#ifdef nested too deeply");
                    return;
                }
                if (name[0] == '\0') {
                    lex_error(lx, line, "#%s without a symbol", word);
                    return;
                }
                bool def = def_lookup(lx, name) != NULL;
                active[depth] = (word[2] == 'd') ? def : !def;
                seen_else[depth] = false;
                depth++;
            } else if (strcmp(word, "else") == 0) {
                if (depth == 0 || seen_else[depth - 1]) {
                    lex_error(lx, line, "#else without #ifdef");
                    return;
                }
                active[depth - 1] = !active[depth - 1];
                seen_else[depth - 1] = true;
            } else if (strcmp(word, "endif") == 0) {
                if (depth == 0) {
                    lex_error(lx, line, "#endif without #ifdef");
                    return;
                }
                depth--;
            } else {
                lex_error(lx, line, "unknown preprocessor directive '#%s'", word);
                return;
            }
        } else if (on && strncmp(s, "--define=", 9) == 0) {
            char *spec = xstrndup(s + 9, n - (size_t)(s + 9 - p));
            char *end = spec + strcspn(spec, " \t\r");
            *end = '\0';
            def_add(lx, spec);
            free(spec);
        }
        if (directive || !on) {
            memset(p, ' ', n);
        }
        if (eol == NULL) {
            break;
        }
        p = eol + 1;
        line++;
    }
    if (depth != 0) {
        lex_error(lx, line, "#ifdef without #endif");
    }
}

static bool is_word_char(int c)
{
    return isalnum(c) || c == '_';
}

static size_t match_digits(const char *s)
{
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) {
        n++;
    }
    return n;
}

/* Lengths of the candidate number/word patterns at s (0: no match). */
static size_t m_float(const char *s)
{
    size_t n = (*s == '-') ? 1 : 0;
    n += match_digits(s + n);
    if (s[n] != '.') {
        return 0;
    }
    size_t d = match_digits(s + n + 1);
    return d ? n + 1 + d : 0;
}

static size_t m_int(const char *s)
{
    size_t n = (*s == '-') ? 1 : 0;
    size_t d = match_digits(s + n);
    return d ? n + d : 0;
}

static size_t m_hex(const char *s)
{
    if (s[0] != '0' || s[1] != 'x') {
        return 0;
    }
    size_t n = 2;
    while (isxdigit((unsigned char)s[n])) {
        n++;
    }
    return n > 2 ? n : 0;
}

static size_t m_word(const char *s)
{
    size_t n = 0;
    while (is_word_char((unsigned char)s[n])) {
        n++;
    }
    return n;
}

static size_t m_ipv4(const char *s)
{
    size_t n = 0;
    for (int part = 0; part < 4; part++) {
        size_t d = match_digits(s + n);
        if (d == 0) {
            return 0;
        }
        n += d;
        if (part < 3) {
            if (s[n] != '.') {
                return 0;
            }
            n++;
        }
    }
    return n;
}

static void push_tok(lexer *lx, token t)
{
    t.line = t.line ? t.line : lx->line;
    PUSH(lx->toks, lx->n_toks, t);
}

static void count_lines(lexer *lx, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            lx->line++;
        }
    }
}

/* Classify and push a number-or-word token of length n at s. */
static void push_atom(lexer *lx, const char *s, size_t n, tk_kind kind, int depth);

static void lex_text(lexer *lx, const char *b, int depth);

/* A -D symbol stands for its text, as packetdrill's --define substitutes it before lexing:
   the value is lexed in the word's place, so `FLAGS=S.` gives the tokens S and '.', the
   same as writing S. there. Line numbers stay those of the word. */
static void lex_value(lexer *lx, const char *v, int line, int depth)
{
    /* A value that names symbols again is lexed again, up to 8 deep: a value with k words
       naming itself would give k^8 tokens (a 300-byte script took gigabytes and most of a
       minute). Far beyond any real script's use, the substitution stops with an error. */
    enum { MAX_SUBSTITUTED = 1u << 20 };
    lx->n_substituted += strlen(v) + 1;
    if (lx->n_substituted > MAX_SUBSTITUTED) {
        lex_error(lx, line, "-D substitutions grow beyond %u bytes (a symbol that names "
                            "itself?)", (unsigned)MAX_SUBSTITUTED);
        return;
    }
    int saved = lx->line;
    lx->line = line;
    lex_text(lx, v, depth + 1);
    lx->line = saved;
}

static void push_atom(lexer *lx, const char *s, size_t n, tk_kind kind, int depth)
{
    token t = {0};
    t.kind = kind;
    t.line = lx->line;
    t.text = xstrndup(s, n);
    switch (kind) {
    case TK_FLOAT:
        t.f = strtod(t.text, NULL);
        break;
    case TK_INT:
        errno = 0;
        t.i = strtoll(t.text, NULL, 10);
        if (errno != 0) {
            lex_error(lx, lx->line, "number out of range: %s", t.text);
        }
        break;
    case TK_HEX:
        errno = 0;
        t.i = (int64_t)strtoull(t.text + 2, NULL, 16);
        if (errno != 0) {
            lex_error(lx, lx->line, "number out of range: %s", t.text);
        }
        break;
    case TK_WORD: {
        const char *v = depth < 8 ? def_lookup(lx, t.text) : NULL;
        if (v != NULL) {
            int line = t.line;
            free(t.text);
            lex_value(lx, v, line, depth);
            return;
        }
        break;
    }
    default:
        break;
    }
    push_tok(lx, t);
}

/* Find the closing delimiter of a quoted string starting after the opening quote. */
static size_t quoted_len(const char *s, char q)
{
    size_t n = 0;
    while (s[n] != '\0' && s[n] != q) {
        if (s[n] == '\\' && s[n + 1] != '\0') {
            n++;
        }
        n++;
    }
    return n;
}

/* Spans are kept for the script's own text only: an errno note is taken from it as
   written. The tokens of a substituted -D value get the span of the word they replace. */
static void set_spans(lexer *lx, int depth, size_t first, size_t start, size_t end)
{
    for (size_t k = first; depth == 0 && k < lx->n_toks; k++) {
        lx->toks[k].off = start;
        lx->toks[k].end = end;
    }
}

/* Lex b: the script's text at depth 0, a -D value substituted for a word deeper. */
static void lex_text(lexer *lx, const char *b, int depth)
{
    size_t i = 0, first = 0, start = 0;
    for (; !lx->failed && b[i] != '\0'; set_spans(lx, depth, first, start, i)) {
        first = lx->n_toks;
        start = i;
        const char *s = b + i;
        if (*s == '\n') {
            lx->line++;
            i++;
            continue;
        }
        if (isspace((unsigned char)*s)) {
            i++;
            continue;
        }
        if (s[0] == '/' && s[1] == '/') {
            while (b[i] != '\0' && b[i] != '\n') {
                i++;
            }
            continue;
        }
        if (s[0] == '/' && s[1] == '*') {
            const char *e = strstr(s + 2, "*/");
            if (e == NULL) {
                lex_error(lx, lx->line, "unterminated comment");
                return;
            }
            count_lines(lx, s, (size_t)(e + 2 - s));
            i += (size_t)(e + 2 - s);
            continue;
        }
        if (s[0] == '%' && s[1] == '{') {
            const char *e = strstr(s + 2, "}%");
            if (e == NULL) {
                lex_error(lx, lx->line, "unterminated %%{ code block");
                return;
            }
            token t = {.kind = TK_CODE, .line = lx->line};
            /* Trim blanks at both ends, as packetdrill does for Python's sake. */
            const char *a = s + 2;
            const char *z = e;
            while (a < z && (*a == ' ' || *a == '\t')) {
                a++;
            }
            while (z > a && (z[-1] == ' ' || z[-1] == '\t')) {
                z--;
            }
            t.text = xstrndup(a, (size_t)(z - a));
            push_tok(lx, t);
            count_lines(lx, s, (size_t)(e + 2 - s));
            i += (size_t)(e + 2 - s);
            continue;
        }
        if (*s == '"' || *s == '`') {
            size_t n = quoted_len(s + 1, *s);
            if (s[1 + n] != *s) {
                lex_error(lx, lx->line, "unterminated %s", *s == '"' ? "string" : "command");
                return;
            }
            token t = {.kind = (*s == '"') ? TK_STRING : TK_BACKQ, .line = lx->line};
            t.text = xstrndup(s + 1, n);
            push_tok(lx, t);
            count_lines(lx, s, n + 2);
            i += n + 2;
            continue;
        }
        if (s[0] == '.' && s[1] == '.' && s[2] == '.') {
            token t = {.kind = TK_ELLIPSIS, .line = lx->line, .text = xstrdup("...")};
            push_tok(lx, t);
            i += 3;
            continue;
        }
        if (s[0] == '-' && s[1] == '-' && is_word_char((unsigned char)s[2])) {
            size_t n = 2 + m_word(s + 2);
            token t = {.kind = TK_OPTION, .line = lx->line};
            t.text = xstrndup(s + 2, n - 2);
            if (s[n] == '=') {
                size_t v = n + 1;
                size_t e = v;
                while (s[e] != '\0' && !isspace((unsigned char)s[e])) {
                    if (s[e] == '"' || s[e] == '`') {
                        e += quoted_len(s + e + 1, s[e]) + 1;
                        if (s[e] == '\0') {
                            break;
                        }
                    }
                    e++;
                }
                t.value = xstrndup(s + v, e - v);
                n = e;
            }
            push_tok(lx, t);
            i += n;
            continue;
        }
        size_t lens[5] = {m_float(s), m_int(s), m_hex(s), m_word(s), m_ipv4(s)};
        tk_kind kinds[5] = {TK_FLOAT, TK_INT, TK_HEX, TK_WORD, TK_IPV4};
        size_t best = 0;
        int bi = -1;
        for (int k = 0; k < 5; k++) {
            if (lens[k] > best) { /* strict: the earlier pattern wins a tie, as in flex */
                best = lens[k];
                bi = k;
            }
        }
        if (bi >= 0) {
            push_atom(lx, s, best, kinds[bi], depth);
            i += best;
            continue;
        }
        token t = {.kind = TK_CHAR, .line = lx->line, .c = (unsigned char)*s};
        t.text = xstrndup(s, 1);
        push_tok(lx, t);
        i++;
    }
    if (depth == 0) {
        token eof = {.kind = TK_EOF, .line = lx->line, .text = xstrdup("end of file")};
        eof.off = eof.end = i;
        push_tok(lx, eof);
    }
}

/* ---- parser ---------------------------------------------------------------------------- */

typedef struct parser {
    lexer *lx;
    size_t pos;
    tw_sc_script *s;
    int depth; /* of the expression being parsed (parse_expr) */
} parser;

static const token *peek(const parser *p, size_t ahead)
{
    size_t i = p->pos + ahead;
    if (i >= p->lx->n_toks) {
        i = p->lx->n_toks - 1;
    }
    return &p->lx->toks[i];
}

static const token *next(parser *p)
{
    const token *t = peek(p, 0);
    if (t->kind != TK_EOF) {
        p->pos++;
    }
    return t;
}

static bool is_char(const token *t, int c)
{
    return t->kind == TK_CHAR && t->c == c;
}

static bool is_word(const token *t, const char *w)
{
    return t->kind == TK_WORD && strcmp(t->text, w) == 0;
}

static int perr(parser *p, const token *t, const char *fmt, ...)
{
    lexer *lx = p->lx;
    if (lx->failed) {
        return -1;
    }
    lx->failed = true;
    int n = snprintf(lx->err, lx->errlen, "%s:%d: parse error at '%s': ", lx->path, t->line,
                     t->text ? t->text : "?");
    if (n < 0 || (size_t)n >= lx->errlen) {
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void set_skip(parser *p, int line, const char *fmt, ...)
{
    if (p->s->skip_reason != NULL) {
        return;
    }
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    p->s->skip_reason = xstrdup(msg);
}

/* Skip the rest of the tokens on `line` (used after an unsupported construct). */
static void skip_line(parser *p, int line)
{
    while (peek(p, 0)->kind != TK_EOF && peek(p, 0)->line == line) {
        next(p);
    }
}

static int expect_char(parser *p, int c)
{
    const token *t = peek(p, 0);
    if (!is_char(t, c)) {
        return perr(p, t, "expected '%c'", c);
    }
    next(p);
    return 0;
}

static int parse_u32(parser *p, uint32_t *out, const char *what)
{
    *out = 0; /* (for GCC -O2's uninitialized-use check in its callers: perr returns -1) */
    const token *t = peek(p, 0);
    if (t->kind != TK_INT && t->kind != TK_HEX) {
        return perr(p, t, "expected %s", what);
    }
    if (t->i < 0 || t->i > (int64_t)UINT32_MAX) {
        return perr(p, t, "%s out of range", what);
    }
    *out = (uint32_t)t->i;
    next(p);
    return 0;
}

static int parse_u16(parser *p, uint16_t *out, const char *what)
{
    uint32_t v;
    const token *t = peek(p, 0);
    if (parse_u32(p, &v, what) < 0) {
        return -1;
    }
    if (v > UINT16_MAX) {
        return perr(p, t, "%s out of range", what);
    }
    *out = (uint16_t)v;
    return 0;
}

/* A time in seconds (integer or decimal) as microseconds; negative is an error. */
static int parse_secs(parser *p, int64_t *us)
{
    const token *t = peek(p, 0);
    if (t->kind == TK_INT) {
        if (t->i < 0) {
            return perr(p, t, "negative time");
        }
        if (t->i > INT64_MAX / 1000000) {
            return perr(p, t, "time out of range");
        }
        *us = t->i * 1000000;
    } else if (t->kind == TK_FLOAT) {
        if (t->f < 0) {
            return perr(p, t, "negative time");
        }
        if (t->f > 9.0e12) {
            return perr(p, t, "time out of range");
        }
        /* Round rather than truncate: 0.1 is not exact in binary. */
        *us = (int64_t)(t->f * 1e6 + 0.5);
    } else {
        return perr(p, t, "expected a time");
    }
    next(p);
    return 0;
}

static int parse_time(parser *p, tw_sc_time *tm)
{
    const token *t = peek(p, 0);
    memset(tm, 0, sizeof(*tm));
    if (is_char(t, '*')) {
        next(p);
        tm->kind = TW_SC_T_ANY;
        return 0;
    }
    if (is_char(t, '+')) {
        next(p);
        if (parse_secs(p, &tm->start_us) < 0) {
            return -1;
        }
        tm->kind = TW_SC_T_REL;
        if (is_char(peek(p, 0), '~')) {
            next(p);
            if (expect_char(p, '+') < 0 || parse_secs(p, &tm->end_us) < 0) {
                return -1;
            }
            tm->kind = TW_SC_T_REL_RANGE;
        }
    } else {
        if (parse_secs(p, &tm->start_us) < 0) {
            return -1;
        }
        tm->kind = TW_SC_T_ABS;
        if (is_char(peek(p, 0), '~')) {
            next(p);
            if (parse_secs(p, &tm->end_us) < 0) {
                return -1;
            }
            tm->kind = TW_SC_T_ABS_RANGE;
        }
    }
    if ((tm->kind == TW_SC_T_ABS_RANGE || tm->kind == TW_SC_T_REL_RANGE) &&
        tm->end_us < tm->start_us) {
        return perr(p, t, "time range is backwards");
    }
    return 0;
}

/* ---- packets --------------------------------------------------------------------------- */

static int parse_ip_info(parser *p, tw_sc_packet *pk)
{
    int close = is_char(peek(p, 0), '[') ? ']' : ')';
    pk->ip_info_square = (close == ']');
    next(p);
    for (;;) {
        const token *t = peek(p, 0);
        if (is_word(t, "noecn")) {
            pk->ecn = 0;
        } else if (is_word(t, "ect1")) {
            pk->ecn = 1;
        } else if (is_word(t, "ect0")) {
            pk->ecn = 2;
        } else if (is_word(t, "ce")) {
            pk->ecn = 3;
        } else if (is_word(t, "ect01")) {
            pk->ect01 = true;
        } else if (is_word(t, "tos")) {
            next(p);
            uint32_t v;
            if (parse_u32(p, &v, "tos") < 0) {
                return -1;
            }
            if (v > 255) {
                return perr(p, t, "tos out of range for 8 bits");
            }
            pk->tos = (int)v;
            goto sep;
        } else if (is_word(t, "ttl")) {
            next(p);
            uint32_t v;
            if (parse_u32(p, &v, "ttl") < 0) {
                return -1;
            }
            if (v > 255) {
                return perr(p, t, "ttl out of range");
            }
            pk->ttl = (int)v;
            goto sep;
        } else if (is_word(t, "flowlabel")) {
            set_skip(p, t->line, "IPv6 flow labels are not supported");
            skip_line(p, t->line);
            return 1;
        } else {
            return perr(p, t, "expected ECN, tos or ttl in IP info");
        }
        next(p);
    sep:
        if (is_char(peek(p, 0), ',')) {
            next(p);
            continue;
        }
        return expect_char(p, close);
    }
}

static int parse_flags(parser *p, tw_sc_packet *pk)
{
    const token *t = peek(p, 0);
    if (is_char(t, '.')) {
        next(p);
        pk->flags = TW_SC_F_ACK;
        return 0;
    }
    if (is_char(t, '-')) {
        next(p);
        pk->flags_none = true;
        return 0;
    }
    if (t->kind == TK_FLOAT) {
        set_skip(p, t->line, "AccECN ACE field in flags is not supported");
        skip_line(p, t->line);
        return 1;
    }
    if (t->kind != TK_WORD) {
        return perr(p, t, "expected TCP flags");
    }
    for (const char *c = t->text; *c; c++) {
        uint8_t bit;
        switch (*c) {
        case 'F': bit = TW_SC_F_FIN; break;
        case 'S': bit = TW_SC_F_SYN; break;
        case 'R': bit = TW_SC_F_RST; break;
        case 'P': bit = TW_SC_F_PSH; break;
        case 'U': bit = TW_SC_F_URG; break;
        case 'E': bit = TW_SC_F_ECE; break;
        case 'W': bit = TW_SC_F_CWR; break;
        case 'A':
            set_skip(p, t->line, "the AE (AccECN) flag is not supported");
            skip_line(p, t->line);
            return 1;
        default:
            return perr(p, t, "unknown TCP flag '%c'", *c);
        }
        if (pk->flags & bit) {
            return perr(p, t, "TCP flag '%c' given twice", *c);
        }
        pk->flags |= bit;
    }
    next(p);
    const token *n = peek(p, 0);
    if (n->kind == TK_FLOAT) {
        set_skip(p, n->line, "AccECN ACE field in flags is not supported");
        skip_line(p, n->line);
        return 1;
    }
    if (is_char(n, '.')) {
        next(p);
        pk->flags |= TW_SC_F_ACK;
    }
    return 0;
}

static int parse_hex_blob(parser *p, const token *t, uint8_t *buf, size_t cap, size_t *n)
{
    const char *h = t->text;
    size_t hl = strlen(h);
    if (hl % 2 != 0) {
        return perr(p, t, "hex string has an odd number of digits");
    }
    if (hl / 2 > cap) {
        return perr(p, t, "hex string too long");
    }
    for (size_t i = 0; i < hl; i += 2) {
        if (!isxdigit((unsigned char)h[i]) || !isxdigit((unsigned char)h[i + 1])) {
            return perr(p, t, "not a hex string");
        }
        char b[3] = {h[i], h[i + 1], 0};
        buf[i / 2] = (uint8_t)strtoul(b, NULL, 16);
    }
    *n = hl / 2;
    return 0;
}

static int parse_option(parser *p, tw_sc_opt *o)
{
    const token *t = peek(p, 0);
    memset(o, 0, sizeof(*o));
    if (t->kind != TK_WORD) {
        return perr(p, t, "expected a TCP option");
    }
    next(p);
    if (strcmp(t->text, "nop") == 0) {
        o->kind = TW_SC_O_NOP;
    } else if (strcmp(t->text, "eol") == 0) {
        o->kind = TW_SC_O_EOL;
    } else if (strcmp(t->text, "mss") == 0) {
        o->kind = TW_SC_O_MSS;
        uint16_t v;
        if (parse_u16(p, &v, "mss value") < 0) {
            return -1;
        }
        o->v1 = v;
    } else if (strcmp(t->text, "wscale") == 0) {
        o->kind = TW_SC_O_WSCALE;
        if (is_char(peek(p, 0), '*')) {
            next(p);
            o->wild = true;
        } else {
            uint32_t v;
            const token *vt = peek(p, 0);
            if (parse_u32(p, &v, "window scale shift count") < 0) {
                return -1;
            }
            if (v > 255) {
                return perr(p, vt, "window scale shift count out of range");
            }
            o->v1 = v;
        }
    } else if (strcmp(t->text, "sackOK") == 0) {
        o->kind = TW_SC_O_SACKOK;
    } else if (strcmp(t->text, "sack") == 0) {
        o->kind = TW_SC_O_SACK;
        while (peek(p, 0)->kind == TK_INT) {
            if (o->n_sack == TW_SC_MAX_SACK) {
                return perr(p, peek(p, 0), "too many SACK blocks");
            }
            if (parse_u32(p, &o->sack[o->n_sack][0], "SACK left edge") < 0 ||
                expect_char(p, ':') < 0 ||
                parse_u32(p, &o->sack[o->n_sack][1], "SACK right edge") < 0) {
                return -1;
            }
            o->n_sack++;
        }
        if (o->n_sack == 0) {
            return perr(p, peek(p, 0), "expected SACK blocks");
        }
    } else if (strcmp(t->text, "TS") == 0) {
        o->kind = TW_SC_O_TS;
        if (!is_word(peek(p, 0), "val")) {
            return perr(p, peek(p, 0), "expected 'val'");
        }
        next(p);
        if (parse_u32(p, &o->v1, "ts val") < 0) {
            return -1;
        }
        if (!is_word(peek(p, 0), "ecr")) {
            return perr(p, peek(p, 0), "expected 'ecr'");
        }
        next(p);
        if (parse_u32(p, &o->v2, "ts ecr") < 0) {
            return -1;
        }
    } else if (strcmp(t->text, "FO") == 0 || strcmp(t->text, "FOEXP") == 0 ||
               strcmp(t->text, "md5") == 0) {
        o->kind = (t->text[0] == 'm') ? TW_SC_O_MD5
                  : (strlen(t->text) == 2) ? TW_SC_O_FO : TW_SC_O_FOEXP;
        const token *h = peek(p, 0);
        if (h->kind == TK_WORD || h->kind == TK_INT) {
            next(p);
            if (parse_hex_blob(p, h, o->bytes, sizeof(o->bytes), &o->n_bytes) < 0) {
                return -1;
            }
        } else if (o->kind == TW_SC_O_MD5) {
            return perr(p, h, "expected an MD5 digest");
        }
    } else {
        return perr(p, t, "unknown TCP option");
    }
    return 0;
}

static int parse_options(parser *p, tw_sc_packet *pk)
{
    next(p); /* '<' */
    pk->has_opts = true;
    if (peek(p, 0)->kind == TK_ELLIPSIS) {
        next(p);
        pk->opts_any = true;
        return expect_char(p, '>');
    }
    for (;;) {
        tw_sc_opt o;
        if (parse_option(p, &o) < 0) {
            return -1;
        }
        PUSH(pk->opts, pk->n_opts, o);
        if (pk->n_opts > 40) {
            return perr(p, peek(p, 0), "TCP option list too long");
        }
        if (is_char(peek(p, 0), ',')) {
            next(p);
            continue;
        }
        return expect_char(p, '>');
    }
}

static int parse_mutations(parser *p, tw_sc_packet *pk, int line)
{
    next(p); /* with */
    for (;;) {
        const token *t = peek(p, 0);
        if (t->kind != TK_WORD || t->line != line) {
            return perr(p, t, "expected a mutation name after 'with'");
        }
        next(p);
        tw_sc_mutation m = {0};
        m.name = xstrdup(t->text);
        const token *v = peek(p, 0);
        if (v->line == line) {
            if (v->kind == TK_INT || v->kind == TK_HEX) {
                m.has_value = true;
                m.value = v->i;
                next(p);
            } else if (v->kind == TK_STRING || v->kind == TK_IPV4) {
                m.text = xstrdup(v->text);
                next(p);
            }
        }
        PUSH(pk->muts, pk->n_muts, m);
        if (is_char(peek(p, 0), ',') && peek(p, 0)->line == line) {
            next(p);
            continue;
        }
        return 0;
    }
}

const char *const tw_sc_icmp_unreach_codes[16] = {
    "net_unreachable", "host_unreachable", "protocol_unreachable", "port_unreachable",
    "frag_needed", "source_route_failed", "net_unknown", "host_unknown",
    "source_host_isolated", "net_prohibited", "host_prohibited", "net_unreachable_for_tos",
    "host_unreachable_for_tos", "packet_filtered", "precedence_violation",
    "precedence_cutoff"};

/* The ICMP types an inbound script line may name (packetdrill's words), those that quote
   our segment: RFC 792's Destination Unreachable, Source Quench, Redirect, Time Exceeded
   and Parameter Problem. */
static const struct {
    const char *name;
    uint8_t type;
} icmp_types[] = {{"unreachable", 3},   {"source_quench", 4},     {"redirect", 5},
                  {"time_exceeded", 11}, {"parameter_problem", 12}};

/* packetdrill's "type_N" / "code_N" (tcpdump's notation for a number): N, or -1. */
static int icmp_number(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(text, prefix, n) != 0 || text[n] == '\0' || strlen(text + n) > 3) {
        return -1;
    }
    int v = 0;
    for (const char *c = text + n; *c; c++) {
        if (*c < '0' || *c > '9') {
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    return v <= 255 ? v : -1;
}

/* The quoted segment of an ICMP line, `[start:end(len)]` ('[' next): 0 or -1. */
static int parse_icmp_echoed(parser *p, tw_sc_packet *pk)
{
    next(p); /* [ */
    const token *t = peek(p, 0);
    if (parse_u32(p, &pk->seq, "TCP start sequence number") < 0 || expect_char(p, ':') < 0 ||
        parse_u32(p, &pk->end, "TCP end sequence number") < 0 || expect_char(p, '(') < 0 ||
        parse_u16(p, &pk->len, "TCP payload size") < 0 || expect_char(p, ')') < 0 ||
        expect_char(p, ']') < 0) {
        return -1;
    }
    if ((uint64_t)pk->seq + pk->len != pk->end) {
        return perr(p, t, "inconsistent TCP sequence numbers and payload size");
    }
    pk->icmp_echoed = true;
    return 0;
}

/* `icmp TYPE [CODE] [mtu N] [start:end(len)]`, inbound, or packetdrill's older order
   `[start:end(len)] icmp TYPE ...` (the quoted segment first, parse_packet): 0 or -1. */
static int parse_icmp(parser *p, tw_sc_packet *pk, int line)
{
    next(p); /* icmp */
    const token *t = next(p); /* the type (known to be a word: parse_packet) */
    pk->icmp = true;
    int type = icmp_number(t->text, "type_");
    for (size_t i = 0; type < 0 && i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++) {
        if (strcmp(t->text, icmp_types[i].name) == 0) {
            type = icmp_types[i].type;
        }
    }
    if (type < 0) {
        return perr(p, t, "unknown ICMP type '%s'", t->text);
    }
    pk->icmp_type = (uint8_t)type;
    t = peek(p, 0);
    if (t->kind == TK_WORD && t->line == line && !is_word(t, "mtu")) {
        int code = icmp_number(t->text, "code_");
        for (size_t i = 0; code < 0 && type == 3 && i < 16; i++) {
            if (strcmp(t->text, tw_sc_icmp_unreach_codes[i]) == 0) {
                code = (int)i;
            }
        }
        if (code < 0) {
            return perr(p, t, "unknown ICMP code '%s'", t->text);
        }
        next(p);
        pk->icmp_code = (uint8_t)code;
    }
    if (is_word(peek(p, 0), "mtu") && peek(p, 0)->line == line) {
        next(p);
        if (parse_u16(p, &pk->icmp_mtu, "ICMP next-hop MTU") < 0) {
            return -1;
        }
        pk->has_mtu = true;
    }
    if (is_char(peek(p, 0), '[') && peek(p, 0)->line == line) {
        if (pk->icmp_echoed) {
            return perr(p, peek(p, 0), "the quoted segment is given twice");
        }
        return parse_icmp_echoed(p, pk);
    }
    return 0;
}

/* Returns 0, 1 when the line was unsupported (skipped), -1 on error. */
static int parse_packet(parser *p, tw_sc_packet *pk)
{
    const token *d = next(p);
    int line = d->line;
    memset(pk, 0, sizeof(*pk));
    pk->outbound = is_char(d, '>');
    pk->ecn = -1;
    pk->tos = -1;
    pk->ttl = -1;
    const token *t = peek(p, 0);
    if (!pk->outbound && is_char(t, '[') && peek(p, 1)->kind == TK_INT) {
        /* packetdrill's older grammar quotes the segment before the word icmp:
           `< [1:1461(1460)] icmp unreachable frag_needed mtu 1500` */
        size_t k = 1;
        while (k < 12 && !is_char(peek(p, k), ']') && peek(p, k)->line == line) {
            k++;
        }
        if (is_char(peek(p, k), ']') && is_word(peek(p, k + 1), "icmp") &&
            peek(p, k + 1)->line == line) {
            if (parse_icmp_echoed(p, pk) < 0) {
                return -1;
            }
            t = peek(p, 0);
        }
    }
    if (!pk->outbound && is_word(t, "icmp") && peek(p, 1)->kind == TK_WORD &&
        peek(p, 1)->line == line) {
        const char *w = peek(p, 1)->text;
        bool known = icmp_number(w, "type_") >= 0;
        for (size_t i = 0; !known && i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++) {
            known = strcmp(w, icmp_types[i].name) == 0;
        }
        if (known) {
            return parse_icmp(p, pk, line);
        }
    }
    if (t->kind == TK_WORD &&
        (strcmp(t->text, "udp") == 0 || strcmp(t->text, "icmp") == 0 ||
         strcmp(t->text, "ipv4") == 0 || strcmp(t->text, "ipv6") == 0 ||
         strcmp(t->text, "gre") == 0 || strcmp(t->text, "GREv0") == 0 ||
         strcmp(t->text, "mpls") == 0)) {
        set_skip(p, line, "%s packets are not supported", t->text);
        skip_line(p, line);
        return 1;
    }
    if ((is_char(t, '(') || is_char(t, '[')) && peek(p, 1)->kind == TK_WORD) {
        int r = parse_ip_info(p, pk);
        if (r != 0) {
            return r;
        }
        t = peek(p, 0);
        if (t->kind == TK_WORD && (strcmp(t->text, "udp") == 0 || strcmp(t->text, "icmp") == 0)) {
            set_skip(p, line, "%s packets are not supported", t->text);
            skip_line(p, line);
            return 1;
        }
    }
    if (t->kind == TK_INT && is_char(peek(p, 1), '>')) {
        if (parse_u16(p, &pk->sport, "source port") < 0 || expect_char(p, '>') < 0 ||
            parse_u16(p, &pk->dport, "destination port") < 0) {
            return -1;
        }
        pk->has_ports = true;
    }
    int r = parse_flags(p, pk);
    if (r != 0) {
        return r;
    }
    t = peek(p, 0);
    if (t->kind == TK_ELLIPSIS) {
        next(p);
        pk->seq_any = true;
        if (expect_char(p, '(') < 0 || parse_u16(p, &pk->len, "TCP payload size") < 0 ||
            expect_char(p, ')') < 0) {
            return -1;
        }
    } else {
        if (parse_u32(p, &pk->seq, "TCP start sequence number") < 0 ||
            expect_char(p, ':') < 0 ||
            parse_u32(p, &pk->end, "TCP end sequence number") < 0 ||
            expect_char(p, '(') < 0 || parse_u16(p, &pk->len, "TCP payload size") < 0 ||
            expect_char(p, ')') < 0) {
            return -1;
        }
        if ((uint64_t)pk->seq + pk->len != pk->end) {
            return perr(p, t, "inconsistent TCP sequence numbers and payload size");
        }
    }
    if (is_word(peek(p, 0), "ack")) {
        next(p);
        if (parse_u32(p, &pk->ack, "TCP ack sequence number") < 0) {
            return -1;
        }
        pk->has_ack = true;
    }
    if (is_word(peek(p, 0), "win")) {
        next(p);
        if (parse_u16(p, &pk->win, "TCP window value") < 0) {
            return -1;
        }
        pk->has_win = true;
    }
    if (is_word(peek(p, 0), "urg")) {
        next(p);
        if (parse_u16(p, &pk->urg, "urg_ptr value") < 0) {
            return -1;
        }
        pk->has_urg = true;
    }
    if (is_char(peek(p, 0), '<')) {
        if (parse_options(p, pk) < 0) {
            return -1;
        }
    }
    if (is_char(peek(p, 0), '{') && peek(p, 0)->line == line) {
        set_skip(p, line, "packet fuzzing clauses are not supported");
        skip_line(p, line);
        return 1;
    }
    if (is_word(peek(p, 0), "with") && peek(p, 0)->line == line) {
        if (pk->outbound) {
            return perr(p, peek(p, 0), "'with' mutations apply to inbound packets only");
        }
        if (parse_mutations(p, pk, line) < 0) {
            return -1;
        }
    }
    if (!pk->outbound && !pk->has_win) {
        return perr(p, d, "window must be specified for inbound packets");
    }
    if (!pk->outbound && pk->opts_any) {
        return perr(p, d, "<...> for TCP options can only be used with outbound packets");
    }
    return 0;
}

/* ---- syscalls and expressions ---------------------------------------------------------- */

static tw_sc_expr *new_expr(tw_sc_expr_kind k)
{
    tw_sc_expr *e = xcalloc(1, sizeof(*e));
    e->kind = k;
    return e;
}

static void expr_free(tw_sc_expr *e)
{
    if (e == NULL) {
        return;
    }
    free(e->str);
    expr_free(e->lhs);
    expr_free(e->rhs);
    for (size_t i = 0; i < e->n_items; i++) {
        expr_free(e->items[i]);
    }
    free(e->items);
    free(e);
}

static tw_sc_expr *parse_expr(parser *p);

static int parse_items(parser *p, int close, tw_sc_expr *list)
{
    if (is_char(peek(p, 0), close)) {
        next(p);
        return 0;
    }
    for (;;) {
        tw_sc_expr *item;
        if (peek(p, 0)->kind == TK_WORD && is_char(peek(p, 1), '=')) {
            item = new_expr(TW_SC_E_ASSIGN);
            item->str = xstrdup(next(p)->text);
            next(p);
            item->rhs = parse_expr(p);
            if (item->rhs == NULL) {
                expr_free(item);
                return -1;
            }
        } else if (peek(p, 0)->kind == TK_WORD && is_char(peek(p, 1), '(') &&
                   is_char(peek(p, 3), ')') && is_char(peek(p, 4), '=')) {
            /* packetdrill's struct msghdr fields: msg_name(...)=..., msg_iov(1)=[...]:
               the count in parentheses kept in lhs */
            item = new_expr(TW_SC_E_ASSIGN);
            item->str = xstrdup(next(p)->text);
            next(p);
            item->lhs = parse_expr(p);
            if (item->lhs == NULL || expect_char(p, ')') < 0 || expect_char(p, '=') < 0 ||
                (item->rhs = parse_expr(p)) == NULL) {
                expr_free(item);
                return -1;
            }
        } else {
            item = parse_expr(p);
            if (item == NULL) {
                return -1;
            }
        }
        PUSH(list->items, list->n_items, item);
        if (is_char(peek(p, 0), ',')) {
            next(p);
            continue;
        }
        return expect_char(p, close);
    }
}

static tw_sc_expr *parse_primary(parser *p)
{
    const token *t = peek(p, 0);
    tw_sc_expr *e = NULL;
    switch (t->kind) {
    case TK_ELLIPSIS:
        next(p);
        return new_expr(TW_SC_E_ELLIPSIS);
    case TK_INT:
    case TK_HEX:
        next(p);
        e = new_expr(TW_SC_E_INT);
        e->num = t->i;
        e->hex = (t->kind == TK_HEX);
        return e;
    case TK_STRING: {
        e = new_expr(TW_SC_E_STRING);
        e->str = xstrdup(next(p)->text);
        while (peek(p, 0)->kind == TK_STRING) { /* "a" "b" concatenates */
            const char *more = next(p)->text;
            size_t a = strlen(e->str);
            e->str = xrealloc(e->str, a + strlen(more) + 1);
            strcpy(e->str + a, more);
        }
        if (peek(p, 0)->kind == TK_ELLIPSIS) {
            next(p);
            e->str_ellipsis = true;
        }
        return e;
    }
    case TK_WORD:
        next(p);
        if (is_char(peek(p, 0), '(')) {
            next(p);
            e = new_expr(TW_SC_E_CALL);
            e->str = xstrdup(t->text);
            if (parse_items(p, ')', e) < 0) {
                expr_free(e);
                return NULL;
            }
            return e;
        }
        e = new_expr(TW_SC_E_WORD);
        e->str = xstrdup(t->text);
        return e;
    case TK_CHAR:
        if (t->c == '[' || t->c == '{') {
            next(p);
            e = new_expr(t->c == '[' ? TW_SC_E_LIST : TW_SC_E_STRUCT);
            if (parse_items(p, t->c == '[' ? ']' : '}', e) < 0) {
                expr_free(e);
                return NULL;
            }
            return e;
        }
        break;
    default:
        break;
    }
    perr(p, t, "expected an expression");
    return NULL;
}

/* The deepest expression tree a script may write: brackets and calls nest, and each `|`
   adds a level (the tree leans left). Every walk of the tree (evaluation, printing,
   freeing) recurses, so a line of ten thousand '[' or '|' must be refused here rather
   than overflow the C stack later. */
#define MAX_EXPR_DEPTH 64

static tw_sc_expr *parse_expr(parser *p)
{
    if (p->depth >= MAX_EXPR_DEPTH) {
        perr(p, peek(p, 0), "expression nested more than %d deep", MAX_EXPR_DEPTH);
        return NULL;
    }
    p->depth++;
    tw_sc_expr *e = parse_primary(p);
    int ors = 0;
    while (e != NULL && is_char(peek(p, 0), '|')) {
        if (p->depth + ++ors > MAX_EXPR_DEPTH) {
            perr(p, peek(p, 0), "expression nested more than %d deep", MAX_EXPR_DEPTH);
            expr_free(e);
            e = NULL;
            break;
        }
        next(p);
        tw_sc_expr *rhs = parse_primary(p);
        if (rhs == NULL) {
            expr_free(e);
            e = NULL;
            break;
        }
        tw_sc_expr *o = new_expr(TW_SC_E_OR);
        o->lhs = e;
        o->rhs = rhs;
        e = o;
    }
    p->depth--;
    return e;
}

/* The text of a ( note ) as written between the parentheses (blanks at both ends off),
   so that printing it gives text that reads back the same: rebuilt from its tokens, a
   backquoted `x//y` would print bare and turn into a comment, and a -D symbol would print
   as its value. The tokens inside only have to balance the parentheses. */
static char *parse_note(parser *p)
{
    const token *open = next(p);
    int depth = 1;
    const token *last = open;
    for (;;) {
        const token *t = next(p);
        if (t->kind == TK_EOF) {
            perr(p, open, "unterminated note");
            return NULL;
        }
        if (is_char(t, '(')) {
            depth++;
        } else if (is_char(t, ')') && --depth == 0) {
            const char *a = p->lx->buf + open->end;
            const char *z = p->lx->buf + t->off;
            while (a < z && (*a == ' ' || *a == '\t')) {
                a++;
            }
            /* A newline before ')' stays: it may end a // comment inside the note. One
               blank stays after an option's value (--name=value runs to a blank, taking
               parentheses with it): glued to the ')', the printed note would read back
               with the ')' in the value and no end. */
            const char *keep = last->kind == TK_OPTION ? p->lx->buf + last->end + 1 : a;
            while (z > a && z > keep && (z[-1] == ' ' || z[-1] == '\t')) {
                z--;
            }
            return xstrndup(a, (size_t)(z - a));
        }
        last = t;
    }
}

static int parse_syscall(parser *p, tw_sc_syscall *c, const tw_sc_time *tm)
{
    memset(c, 0, sizeof(*c));
    if (peek(p, 0)->kind == TK_ELLIPSIS) {
        next(p);
        c->blocking = true;
        if (parse_secs(p, &c->end_us) < 0) {
            return -1;
        }
        if (tm->kind != TW_SC_T_ABS && tm->kind != TW_SC_T_REL) {
            return perr(p, peek(p, 0), "a blocking call needs a plain start time");
        }
    }
    const token *name = peek(p, 0);
    if (name->kind != TK_WORD) {
        return perr(p, name, "expected a system call name");
    }
    next(p);
    c->name = xstrdup(name->text);
    if (expect_char(p, '(') < 0) {
        return -1;
    }
    tw_sc_expr args = {0};
    if (parse_items(p, ')', &args) < 0) {
        for (size_t i = 0; i < args.n_items; i++) {
            expr_free(args.items[i]);
        }
        free(args.items);
        return -1;
    }
    c->args = args.items;
    c->n_args = args.n_items;
    if (expect_char(p, '=') < 0) {
        return -1;
    }
    c->result = parse_expr(p);
    if (c->result == NULL) {
        return -1;
    }
    if (peek(p, 0)->kind == TK_WORD && peek(p, 0)->line == name->line) {
        c->err_name = xstrdup(next(p)->text);
    }
    if (is_char(peek(p, 0), '(') && peek(p, 0)->line == name->line) {
        c->note = parse_note(p);
        if (c->note == NULL) {
            return -1;
        }
    }
    return 0;
}

/* ---- tcpwave assertion lines ----------------------------------------------------------- */

/* True when `name` lexes on its own without an error or an option token: what the printer
   writes for a state line reads back as the same name. */
static bool name_relexes(const char *name)
{
    char err[8];
    lexer lx = {.path = "", .buf = xstrdup(name), .len = strlen(name), .line = 1,
                .err = err, .errlen = sizeof(err)};
    lex_text(&lx, lx.buf, 0);
    bool ok = !lx.failed;
    for (size_t i = 0; i < lx.n_toks; i++) {
        ok = ok && lx.toks[i].kind != TK_OPTION;
        free(lx.toks[i].text);
        free(lx.toks[i].value);
    }
    free(lx.toks);
    free(lx.buf);
    return ok;
}

static int parse_state_line(parser *p, tw_sc_event *ev)
{
    const token *kw = next(p);
    int line = kw->line;
    ev->kind = TW_SC_EV_STATE;
    ev->state.fd = -1;
    if (peek(p, 0)->kind == TK_INT && peek(p, 1)->line == line &&
        peek(p, 1)->kind != TK_EOF) {
        ev->state.fd = (int)next(p)->i;
    }
    /* The name is the rest of the line: FIN-WAIT-1 lexes as several tokens. */
    char name[64] = {0};
    size_t n = 0;
    while (peek(p, 0)->kind != TK_EOF && peek(p, 0)->line == line) {
        const token *t = next(p);
        const char *txt = t->text;
        size_t l = strlen(txt);
        /* Only what a state name is made of (FIN-WAIT-1, syn_recv): anything else would
           not survive being glued together and printed back. */
        if (l == 0 || strspn(txt, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                  "0123456789_-") != l) {
            return perr(p, t, "bad state name");
        }
        if (n + l >= sizeof(name)) {
            return perr(p, kw, "state name too long");
        }
        memcpy(name + n, txt, l);
        n += l;
        name[n] = '\0';
        /* "--" never occurs in a state name, and glued back it would lex as an option
           (losing its dashes) when the line is printed and read again. */
        if (t->kind == TK_OPTION || strstr(name, "--") != NULL) {
            return perr(p, t, "bad state name");
        }
    }
    if (n == 0) {
        return perr(p, kw, "expected a state name");
    }
    /* Every state name starts with a letter; one starting with a digit or a dash would be
       read back as the fd ("state -0X" prints as a name that reads as fd 0, name X). */
    if (!isalpha((unsigned char)name[0])) {
        return perr(p, kw, "a state name starts with a letter: %s", name);
    }
    /* Printed, the glued name is lexed once more: pieces that were separate tokens may
       now merge into a number out of range ("A-4444444444 4444444444"). */
    if (!name_relexes(name)) {
        return perr(p, kw, "bad state name: %s", name);
    }
    ev->state.name = xstrdup(name);
    return 0;
}

static int parse_counter_line(parser *p, tw_sc_event *ev)
{
    next(p);
    ev->kind = TW_SC_EV_COUNTER;
    const token *n = peek(p, 0);
    if (n->kind != TK_WORD) {
        return perr(p, n, "expected a counter name");
    }
    ev->counter.name = xstrdup(next(p)->text);
    const token *a = next(p);
    if (!(a->kind == TK_CHAR)) {
        return perr(p, a, "expected a comparison (==, !=, <, <=, >, >=)");
    }
    bool eq_next = is_char(peek(p, 0), '=');
    switch (a->c) {
    case '=':
        ev->counter.cmp = TW_SC_EQ;
        break;
    case '!':
        if (!eq_next) {
            return perr(p, a, "expected '!='");
        }
        ev->counter.cmp = TW_SC_NE;
        break;
    case '<':
        ev->counter.cmp = eq_next ? TW_SC_LE : TW_SC_LT;
        break;
    case '>':
        ev->counter.cmp = eq_next ? TW_SC_GE : TW_SC_GT;
        break;
    default:
        return perr(p, a, "expected a comparison (==, !=, <, <=, >, >=)");
    }
    if (eq_next) {
        next(p);
    }
    const token *v = peek(p, 0);
    if (v->kind != TK_INT && v->kind != TK_HEX) {
        return perr(p, v, "expected a number");
    }
    ev->counter.value = next(p)->i;
    return 0;
}

static int parse_deadline_line(parser *p, tw_sc_event *ev)
{
    next(p);
    ev->kind = TW_SC_EV_DEADLINE;
    if (is_word(peek(p, 0), "none")) {
        next(p);
        ev->deadline.none = true;
        return 0;
    }
    if (is_char(peek(p, 0), '+')) {
        next(p);
        ev->deadline.relative = true;
    }
    return parse_secs(p, &ev->deadline.us);
}

/* ---- events and the script ------------------------------------------------------------- */

/* Returns 0 with *keep set when the event was stored, 1 when skipped, -1 on error. */
static int parse_event(parser *p, tw_sc_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    const token *first = peek(p, 0);
    ev->line = first->line;
    if (parse_time(p, &ev->time) < 0) {
        return -1;
    }
    const token *t = peek(p, 0);
    int r = 0;
    if (is_char(t, '<') || is_char(t, '>')) {
        ev->kind = TW_SC_EV_PACKET;
        r = parse_packet(p, &ev->pkt);
    } else if (t->kind == TK_BACKQ) {
        ev->kind = TW_SC_EV_COMMAND;
        ev->text = xstrdup(next(p)->text);
    } else if (t->kind == TK_CODE) {
        ev->kind = TW_SC_EV_CODE;
        ev->text = xstrdup(next(p)->text);
    } else if (t->kind == TK_WORD && !is_char(peek(p, 1), '(') &&
               (strcmp(t->text, "state") == 0 || strcmp(t->text, "counter") == 0 ||
                strcmp(t->text, "deadline") == 0 || strcmp(t->text, "isn") == 0)) {
        if (t->text[0] == 'i') {
            next(p);
            if (!is_word(peek(p, 0), "increased")) {
                return perr(p, peek(p, 0), "expected 'isn increased'");
            }
            next(p);
            ev->kind = TW_SC_EV_ISN;
        } else if (t->text[0] == 's') {
            r = parse_state_line(p, ev);
        } else if (t->text[0] == 'c') {
            r = parse_counter_line(p, ev);
        } else {
            r = parse_deadline_line(p, ev);
        }
    } else if (t->kind == TK_WORD || t->kind == TK_ELLIPSIS) {
        ev->kind = TW_SC_EV_SYSCALL;
        r = parse_syscall(p, &ev->call, &ev->time);
    } else {
        return perr(p, t, "expected a packet, system call, command or code");
    }
    if (r < 0) {
        return -1;
    }
    bool is_out_pkt = ev->kind == TW_SC_EV_PACKET && r == 0 && ev->pkt.outbound;
    if ((ev->time.kind == TW_SC_T_ANY || ev->time.kind == TW_SC_T_ABS_RANGE ||
         ev->time.kind == TW_SC_T_REL_RANGE) &&
        r == 0 && !is_out_pkt) {
        return perr(p, first, "a time range or * can only be used with outbound packets");
    }
    return r;
}

static void event_free(tw_sc_event *ev)
{
    free(ev->pkt.opts);
    for (size_t i = 0; i < ev->pkt.n_muts; i++) {
        free(ev->pkt.muts[i].name);
        free(ev->pkt.muts[i].text);
    }
    free(ev->pkt.muts);
    free(ev->call.name);
    for (size_t i = 0; i < ev->call.n_args; i++) {
        expr_free(ev->call.args[i]);
    }
    free(ev->call.args);
    expr_free(ev->call.result);
    free(ev->call.err_name);
    free(ev->call.note);
    free(ev->text);
    free(ev->state.name);
    free(ev->counter.name);
}

void tw_sc_script_free(tw_sc_script *s)
{
    if (s == NULL) {
        return;
    }
    free(s->path);
    for (size_t i = 0; i < s->n_options; i++) {
        free(s->options[i].name);
        free(s->options[i].value);
    }
    free(s->options);
    free(s->init_command);
    for (size_t i = 0; i < s->n_events; i++) {
        event_free(&s->events[i]);
    }
    free(s->events);
    free(s->cleanup_command);
    for (size_t i = 0; i < s->n_lines; i++) {
        free(s->lines[i]);
    }
    free(s->lines);
    free(s->skip_reason);
    free(s);
}

static void split_lines(tw_sc_script *s, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *l = xstrndup(p, n);
        size_t ln = strlen(l);
        if (ln > 0 && l[ln - 1] == '\r') {
            l[ln - 1] = '\0';
        }
        PUSH(s->lines, s->n_lines, l);
        if (e == NULL) {
            break;
        }
        p = e + 1;
    }
}

const char *tw_sc_line_text(const tw_sc_script *s, int line)
{
    if (s == NULL || line < 1 || (size_t)line > s->n_lines) {
        return "";
    }
    return s->lines[line - 1];
}

static int parse_script(parser *p)
{
    tw_sc_script *s = p->s;
    while (peek(p, 0)->kind == TK_OPTION) {
        const token *t = next(p);
        tw_sc_option o = {0};
        o.name = xstrdup(t->text);
        o.value = t->value ? xstrdup(t->value) : NULL;
        o.line = t->line;
        PUSH(s->options, s->n_options, o);
    }
    if (peek(p, 0)->kind == TK_BACKQ) {
        const token *t = next(p);
        s->init_command = xstrdup(t->text);
        s->init_line = t->line;
    }
    while (peek(p, 0)->kind != TK_EOF) {
        const token *t = peek(p, 0);
        if (t->kind == TK_BACKQ && peek(p, 1)->kind == TK_EOF) {
            next(p);
            s->cleanup_command = xstrdup(t->text);
            s->cleanup_line = t->line;
            break;
        }
        if (t->kind == TK_OPTION) {
            return perr(p, t, "options must come before the first event");
        }
        tw_sc_event ev;
        int r = parse_event(p, &ev);
        if (r < 0) {
            event_free(&ev);
            return -1;
        }
        if (r == 0) {
            PUSH(s->events, s->n_events, ev);
        } else {
            event_free(&ev);
        }
    }
    if (s->n_events == 0 && s->skip_reason == NULL) {
        return perr(p, peek(p, 0), "a script needs at least one event");
    }
    return 0;
}

int tw_sc_parse(const char *path, const char *text, const tw_sc_define *defines,
                size_t n_defines, tw_sc_script **out, char *err, size_t errlen)
{
    lexer lx = {0};
    lx.path = path;
    lx.buf = xstrdup(text);
    lx.len = strlen(text);
    lx.line = 1;
    lx.err = err;
    lx.errlen = errlen;
    for (size_t i = 0; i < n_defines; i++) {
        tw_sc_define d = {xstrdup(defines[i].name), xstrdup(defines[i].value)};
        PUSH(lx.defs, lx.n_defs, d);
    }
    /* Linux's selftest runner defines TFO_COOKIE as the cookie its server gives the
       script's peer (192.0.2.1 at 192.168.0.1) under defaults.sh's tcp_fastopen_key; the
       stack's cookies are Linux's (fastopen.c), so the same value holds here. */
    bool have_tfo = false;
    for (size_t i = 0; i < lx.n_defs; i++) {
        have_tfo = have_tfo || strcmp(lx.defs[i].name, "TFO_COOKIE") == 0;
    }
    if (!have_tfo) {
        tw_sc_define d = {xstrdup("TFO_COOKIE"), xstrdup("3021b9d889017eeb")};
        PUSH(lx.defs, lx.n_defs, d);
    }
    if (errlen > 0) {
        err[0] = '\0';
    }
    tw_sc_script *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    split_lines(s, text);
    preprocess(&lx);
    if (!lx.failed) {
        lex_text(&lx, lx.buf, 0);
    }
    int rc = -1;
    if (!lx.failed) {
        parser p = {.lx = &lx, .pos = 0, .s = s};
        rc = parse_script(&p);
    }
    for (size_t i = 0; i < lx.n_toks; i++) {
        free(lx.toks[i].text);
        free(lx.toks[i].value);
    }
    free(lx.toks);
    for (size_t i = 0; i < lx.n_defs; i++) {
        free(lx.defs[i].name);
        free(lx.defs[i].value);
    }
    free(lx.defs);
    free(lx.buf);
    if (rc < 0) {
        tw_sc_script_free(s);
        *out = NULL;
        return -1;
    }
    *out = s;
    return 0;
}

char *tw_sc_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xcalloc(cap, 1);
    errno = 0;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > ((size_t)64 << 20)) {
                snprintf(err, errlen, "%s: file too large", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    bool bad = ferror(f) != 0;
    int e = errno; /* fread's, e.g. EISDIR for a directory */
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: %s", path, e != 0 ? strerror(e) : "read error");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "%s: binary file (NUL byte)", path);
        free(buf);
        return NULL;
    }
    return buf;
}

int tw_sc_parse_file(const char *path, const tw_sc_define *defines, size_t n_defines,
                     tw_sc_script **out, char *err, size_t errlen)
{
    *out = NULL;
    char *buf = tw_sc_read_file(path, err, errlen);
    if (buf == NULL) {
        return -1;
    }
    int rc = tw_sc_parse(path, buf, defines, n_defines, out, err, errlen);
    free(buf);
    return rc;
}
