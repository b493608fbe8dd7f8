/*
 * fuzz_script.c -- libFuzzer harness for the packetdrill-syntax parser and printer
 * (src/script/ast.h: tw_sc_parse, tw_sc_print).
 *
 * The input is script text (cut at the first NUL, as a file with one is refused). Every
 * input must parse or fail with a message, without a memory error or a leak. What parses
 * must print, the printed text must parse again, and printing that must give the same
 * text (the property ast.h promises: parse(print(s)) == s), unless the parser marked the
 * script SKIP (it holds events tcpwave cannot run and left them out). Each input is parsed
 * twice: as written (check `roundtrip`) and with -D symbols PORT=8080 and FLAGS=S.
 * substituted (check `define_roundtrip`).
 */
#include "script/ast.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_script: %s:%d: ", __FILE__, __LINE__);                   \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fprintf(stderr, "\n");                                                         \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A named check can be switched off through FUZZ_IGNORE (comma-separated names) while the
   bug it trips is open (tests/fuzz/known_open), so fuzzing goes on finding new ones. */
static bool ignored(const char *name)
{
    const char *list = getenv("FUZZ_IGNORE");
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n) {
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
            return true;
        }
    }
    return false;
}

/* Print a script into a malloc'd string. */
static char *print_to_string(const tw_sc_script *s, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    CHECK(f != NULL, "open_memstream failed");
    tw_sc_print(f, s);
    CHECK(fclose(f) == 0, "fclose of the memory stream failed");
    return buf;
}

/* True when the line at `l` is "<time> state ..." (a tcpwave state assertion). */
static bool state_line(const char *l)
{
    const char *sp = strpbrk(l, " \n");
    if (!sp || *sp == '\n') {
        return false;
    }
    while (*sp == ' ') {
        sp++;
    }
    return strncmp(sp, "state ", 6) == 0;
}

/* The name of a round-trip failure: `state_roundtrip` when the first line that differs is
   a tcpwave `state` assertion, or the continuation of one (its name may hold a newline
   from a string token): a known open bug of its own. Otherwise `name`. */
static const char *diff_kind(const char *a, const char *b, const char *name)
{
    size_t i = 0, line = 0, prev = 0;
    while (a[i] && a[i] == b[i]) {
        if (a[i] == '\n') {
            prev = line;
            line = i + 1;
        }
        i++;
    }
    if (strcmp(name, "roundtrip") == 0 &&
        (state_line(a + line) || (line > 0 && state_line(a + prev)))) {
        return "state_roundtrip";
    }
    return name;
}

/* Parse `text` (with the -D symbols when `defs`), and hold what parses to the round trip;
   `name` names the round-trip check for FUZZ_IGNORE. */
static void one(const char *text, const tw_sc_define *defs, size_t n_defs, const char *name)
{
    char err[256];
    memset(err, 'x', sizeof(err));
    tw_sc_script *s = NULL;
    int rc = tw_sc_parse("fuzz.pkt", text, defs, n_defs, &s, err, sizeof(err));
    CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error message not terminated");
    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "parse (%s): %s\n", name, rc == 0 ? "ok" : err);
    }
    if (rc != 0) {
        CHECK(s == NULL, "failed parse returned a script");
        CHECK(err[0] != '\0', "failed parse without a message");
        return;
    }
    CHECK(s != NULL, "successful parse returned no script");
    if (s->skip_reason) {
        /* The parser met something tcpwave cannot run (IPv6, UDP, packet fuzzing) and
           left those events out: the runner reports SKIP, so there is no round trip to
           hold it to. */
        tw_sc_script_free(s);
        return;
    }
    size_t len1 = 0, len2 = 0;
    char *p1 = print_to_string(s, &len1);
    tw_sc_script *s2 = NULL;
    char err2[256];
    /* The printed text is parsed without symbols: it must stand on its own. */
    int rc2 = tw_sc_parse("fuzz.pkt", p1, NULL, 0, &s2, err2, sizeof(err2));
    if (rc2 != 0 && !ignored(name)) {
        fprintf(stderr, "---- printed ----\n%s---- end ----\n", p1);
        CHECK(0, "[%s] the printed script does not parse: %s", name, err2);
    }
    if (rc2 == 0) {
        char *p2 = print_to_string(s2, &len2);
        const char *what = name;
        if (len1 != len2 || memcmp(p1, p2, len1) != 0) {
            what = diff_kind(p1, p2, name);
        }
        if ((len1 != len2 || memcmp(p1, p2, len1) != 0) && !ignored(what)) {
            fprintf(stderr, "---- first print ----\n%s---- second print ----\n%s---- end ----\n",
                    p1, p2);
            CHECK(0, "[%s] print(parse(print(s))) != print(s)", what);
        }
        free(p2);
        tw_sc_script_free(s2);
    }
    free(p1);
    tw_sc_script_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024) {
        return 0; /* the parser is linear; longer inputs only slow the search */
    }
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    /* Once as written, once with -D symbols substituted (packetdrill's --define). */
    static const tw_sc_define defs[2] = {{"PORT", "8080"}, {"FLAGS", "S."}};
    one(text, NULL, 0, "roundtrip");
    one(text, defs, 2, "define_roundtrip");
    free(text);
    return 0;
}
