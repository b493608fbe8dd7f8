/*
 * fuzz_script_run.c -- libFuzzer harness for the script runner (src/script/run.c, sys.c):
 * `tcpwave script` takes files from anyone, so whatever parses is also run, against a
 * fresh stack on virtual time, and must end in PASS, FAIL or SKIP with a report, without
 * a memory error, a leak or a hang. The seed corpus is tests/scripts (make -C fuzz corpus
 * copies it).
 */
#include "script/ast.h"
#include "script/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192) {
        return 0; /* long scripts add time, not new paths */
    }
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    tw_sc_script *s = NULL;
    char err[256];
    if (tw_sc_parse("fuzz.pkt", text, NULL, 0, &s, err, sizeof(err)) == 0) {
        tw_sc_opts o;
        memset(&o, 0, sizeof(o));
        o.seed = 1;
        o.trace_lines = 4;
        tw_sc_result res;
        memset(&res, 0, sizeof(res));
        tw_sc_run(s, &o, &res);
        if (res.verdict != TW_SC_PASS && res.report.buf == NULL) {
            fprintf(stderr, "fuzz_script_run: FAIL or SKIP without a report\n");
            abort();
        }
        tw_sb_free(&res.report);
        tw_sb_free(&res.notes);
        tw_sc_script_free(s);
    }
    free(text);
    return 0;
}
