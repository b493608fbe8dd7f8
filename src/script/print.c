/*
 * print.c -- print a parsed script back in canonical packetdrill syntax.
 *
 * Used by `tcpwave script --print` and the parser round-trip test (print, parse again,
 * print again: the two texts must be equal), and by the runner to show the expected
 * side of a failure.
 */
#include "script/ast.h"

#include <inttypes.h>
#include <string.h>

void tw_sc_print_usecs(FILE *f, int64_t us)
{
    int64_t secs = us / 1000000;
    int64_t frac = us % 1000000;
    if (frac == 0) {
        fprintf(f, "%" PRId64, secs);
        return;
    }
    char digits[8];
    snprintf(digits, sizeof(digits), "%06" PRId64, frac);
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0') {
        digits[--n] = '\0';
    }
    fprintf(f, "%" PRId64 ".%s", secs, digits);
}

static void print_time(FILE *f, const tw_sc_time *t)
{
    switch (t->kind) {
    case TW_SC_T_ANY:
        fputc('*', f);
        break;
    case TW_SC_T_ABS:
        tw_sc_print_usecs(f, t->start_us);
        break;
    case TW_SC_T_REL:
        fputc('+', f);
        tw_sc_print_usecs(f, t->start_us);
        break;
    case TW_SC_T_ABS_RANGE:
        tw_sc_print_usecs(f, t->start_us);
        fputc('~', f);
        tw_sc_print_usecs(f, t->end_us);
        break;
    case TW_SC_T_REL_RANGE:
        fputc('+', f);
        tw_sc_print_usecs(f, t->start_us);
        fputs("~+", f);
        tw_sc_print_usecs(f, t->end_us);
        break;
    }
}

static void print_string(FILE *f, const char *s)
{
    /* The lexer keeps escapes as written, so the text goes back unchanged. */
    fprintf(f, "\"%s\"", s);
}

void tw_sc_print_expr(FILE *f, const tw_sc_expr *e)
{
    switch (e->kind) {
    case TW_SC_E_ELLIPSIS:
        fputs("...", f);
        break;
    case TW_SC_E_INT:
        if (e->hex) {
            fprintf(f, "0x%" PRIx64, (uint64_t)e->num);
        } else {
            fprintf(f, "%" PRId64, e->num);
        }
        break;
    case TW_SC_E_WORD:
        fputs(e->str, f);
        break;
    case TW_SC_E_STRING:
        print_string(f, e->str);
        if (e->str_ellipsis) {
            fputs("...", f);
        }
        break;
    case TW_SC_E_OR:
        tw_sc_print_expr(f, e->lhs);
        fputs("|", f);
        tw_sc_print_expr(f, e->rhs);
        break;
    case TW_SC_E_ASSIGN:
        fputs(e->str, f);
        if (e->lhs != NULL) { /* name(count)=value */
            fputc('(', f);
            tw_sc_print_expr(f, e->lhs);
            fputc(')', f);
        }
        fputc('=', f);
        tw_sc_print_expr(f, e->rhs);
        break;
    case TW_SC_E_LIST:
    case TW_SC_E_STRUCT:
    case TW_SC_E_CALL:
        if (e->kind == TW_SC_E_CALL) {
            fprintf(f, "%s(", e->str);
        } else {
            fputc(e->kind == TW_SC_E_LIST ? '[' : '{', f);
        }
        for (size_t i = 0; i < e->n_items; i++) {
            if (i > 0) {
                fputs(", ", f);
            }
            tw_sc_print_expr(f, e->items[i]);
        }
        fputc(e->kind == TW_SC_E_CALL ? ')' : e->kind == TW_SC_E_LIST ? ']' : '}', f);
        break;
    }
}

static void print_flags(FILE *f, const tw_sc_packet *p)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TW_SC_F_FIN, 'F'}, {TW_SC_F_SYN, 'S'}, {TW_SC_F_RST, 'R'},
                 {TW_SC_F_PSH, 'P'}, {TW_SC_F_URG, 'U'}, {TW_SC_F_ECE, 'E'},
                 {TW_SC_F_CWR, 'W'}};
    if (p->flags_none || p->flags == 0) {
        fputc('-', f);
        return;
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (p->flags & order[i].bit) {
            fputc(order[i].c, f);
        }
    }
    if (p->flags & TW_SC_F_ACK) {
        fputc('.', f);
    }
}

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02x", b[i]);
    }
}

static void print_opt(FILE *f, const tw_sc_opt *o)
{
    switch (o->kind) {
    case TW_SC_O_EOL:
        fputs("eol", f);
        break;
    case TW_SC_O_NOP:
        fputs("nop", f);
        break;
    case TW_SC_O_MSS:
        fprintf(f, "mss %u", o->v1);
        break;
    case TW_SC_O_WSCALE:
        if (o->wild) {
            fputs("wscale *", f);
        } else {
            fprintf(f, "wscale %u", o->v1);
        }
        break;
    case TW_SC_O_SACKOK:
        fputs("sackOK", f);
        break;
    case TW_SC_O_SACK:
        fputs("sack", f);
        for (int i = 0; i < o->n_sack; i++) {
            fprintf(f, " %u:%u", o->sack[i][0], o->sack[i][1]);
        }
        break;
    case TW_SC_O_TS:
        fprintf(f, "TS val %u ecr %u", o->v1, o->v2);
        break;
    case TW_SC_O_MD5:
    case TW_SC_O_FO:
    case TW_SC_O_FOEXP:
        fputs(o->kind == TW_SC_O_MD5 ? "md5" : o->kind == TW_SC_O_FO ? "FO" : "FOEXP", f);
        if (o->n_bytes > 0) {
            fputc(' ', f);
            print_hex(f, o->bytes, o->n_bytes);
        }
        break;
    }
}

void tw_sc_print_packet(FILE *f, const tw_sc_packet *p)
{
    static const char *ecn_names[] = {"noecn", "ect1", "ect0", "ce"};
    fputc(p->outbound ? '>' : '<', f);
    if (p->icmp) {
        static const char *const types[] = {[3] = "unreachable", [4] = "source_quench",
                                            [5] = "redirect", [11] = "time_exceeded",
                                            [12] = "parameter_problem"};
        if (p->icmp_type < sizeof(types) / sizeof(types[0]) && types[p->icmp_type]) {
            fprintf(f, " icmp %s", types[p->icmp_type]);
        } else {
            fprintf(f, " icmp type_%u", p->icmp_type);
        }
        if (p->icmp_type == 3 && p->icmp_code < 16) {
            fprintf(f, " %s", tw_sc_icmp_unreach_codes[p->icmp_code]);
        } else if (p->icmp_code) {
            fprintf(f, " code_%u", p->icmp_code);
        }
        if (p->has_mtu) {
            fprintf(f, " mtu %u", p->icmp_mtu);
        }
        if (p->icmp_echoed) {
            fprintf(f, " [%u:%u(%u)]", p->seq, p->end, p->len);
        }
        return;
    }
    if (p->ecn >= 0 || p->ect01 || p->tos >= 0 || p->ttl >= 0) {
        const char *sep = "";
        fputs(p->ip_info_square ? " [" : " (", f);
        if (p->ecn >= 0 && p->ecn <= 3) {
            fputs(ecn_names[p->ecn], f);
            sep = ", ";
        }
        if (p->ect01) {
            fprintf(f, "%sect01", sep);
            sep = ", ";
        }
        if (p->tos >= 0) {
            fprintf(f, "%stos 0x%x", sep, (unsigned)p->tos);
            sep = ", ";
        }
        if (p->ttl >= 0) {
            fprintf(f, "%sttl %d", sep, p->ttl);
        }
        fputc(p->ip_info_square ? ']' : ')', f);
    }
    if (p->has_ports) {
        fprintf(f, " %u>%u", p->sport, p->dport);
    }
    fputc(' ', f);
    print_flags(f, p);
    if (p->seq_any) {
        fprintf(f, " ...(%u)", p->len);
    } else {
        fprintf(f, " %u:%u(%u)", p->seq, p->end, p->len);
    }
    if (p->has_ack) {
        fprintf(f, " ack %u", p->ack);
    }
    if (p->has_win) {
        fprintf(f, " win %u", p->win);
    }
    if (p->has_urg) {
        fprintf(f, " urg %u", p->urg);
    }
    if (p->opts_any) {
        fputs(" <...>", f);
    } else if (p->has_opts) {
        fputs(" <", f);
        for (size_t i = 0; i < p->n_opts; i++) {
            if (i > 0) {
                fputc(',', f);
            }
            print_opt(f, &p->opts[i]);
        }
        fputc('>', f);
    }
    for (size_t i = 0; i < p->n_muts; i++) {
        const tw_sc_mutation *m = &p->muts[i];
        fputs(i == 0 ? " with " : ", ", f);
        fputs(m->name, f);
        if (m->has_value) {
            fprintf(f, " %" PRId64, m->value);
        } else if (m->text != NULL) {
            /* Dotted quads print bare; anything else was a string. */
            size_t dots = 0;
            bool digits_only = true;
            for (const char *c = m->text; *c; c++) {
                dots += (*c == '.');
                digits_only = digits_only && ((*c >= '0' && *c <= '9') || *c == '.');
            }
            if (dots == 3 && digits_only) {
                fprintf(f, " %s", m->text);
            } else {
                fprintf(f, " \"%s\"", m->text);
            }
        }
    }
}

static const char *cmp_text(tw_sc_cmp c)
{
    switch (c) {
    case TW_SC_EQ: return "==";
    case TW_SC_NE: return "!=";
    case TW_SC_LT: return "<";
    case TW_SC_LE: return "<=";
    case TW_SC_GT: return ">";
    case TW_SC_GE: return ">=";
    }
    return "?";
}

void tw_sc_print_event(FILE *f, const tw_sc_event *ev)
{
    print_time(f, &ev->time);
    fputc(' ', f);
    switch (ev->kind) {
    case TW_SC_EV_PACKET:
        tw_sc_print_packet(f, &ev->pkt);
        break;
    case TW_SC_EV_SYSCALL: {
        const tw_sc_syscall *c = &ev->call;
        if (c->blocking) {
            fputs("...", f);
            tw_sc_print_usecs(f, c->end_us);
            fputc(' ', f);
        }
        fprintf(f, "%s(", c->name);
        for (size_t i = 0; i < c->n_args; i++) {
            if (i > 0) {
                fputs(", ", f);
            }
            tw_sc_print_expr(f, c->args[i]);
        }
        fputs(") = ", f);
        tw_sc_print_expr(f, c->result);
        if (c->err_name) {
            fprintf(f, " %s", c->err_name);
        }
        if (c->note) {
            fprintf(f, " (%s)", c->note);
        }
        break;
    }
    case TW_SC_EV_COMMAND:
        fprintf(f, "`%s`", ev->text);
        break;
    case TW_SC_EV_CODE:
        fprintf(f, "%%{ %s }%%", ev->text);
        break;
    case TW_SC_EV_STATE:
        fputs("state ", f);
        if (ev->state.fd >= 0) {
            fprintf(f, "%d ", ev->state.fd);
        }
        fputs(ev->state.name, f);
        break;
    case TW_SC_EV_COUNTER:
        fprintf(f, "counter %s %s %" PRId64, ev->counter.name, cmp_text(ev->counter.cmp),
                ev->counter.value);
        break;
    case TW_SC_EV_ISN:
        fputs("isn increased", f);
        break;
    case TW_SC_EV_DEADLINE:
        fputs("deadline ", f);
        if (ev->deadline.none) {
            fputs("none", f);
        } else {
            if (ev->deadline.relative) {
                fputc('+', f);
            }
            tw_sc_print_usecs(f, ev->deadline.us);
        }
        break;
    }
}

void tw_sc_print(FILE *f, const tw_sc_script *s)
{
    for (size_t i = 0; i < s->n_options; i++) {
        fprintf(f, "--%s", s->options[i].name);
        if (s->options[i].value) {
            fprintf(f, "=%s", s->options[i].value);
        }
        fputc('\n', f);
    }
    if (s->init_command) {
        fprintf(f, "`%s`\n", s->init_command);
    }
    for (size_t i = 0; i < s->n_events; i++) {
        tw_sc_print_event(f, &s->events[i]);
        fputc('\n', f);
    }
    if (s->cleanup_command) {
        fprintf(f, "`%s`\n", s->cleanup_command);
    }
}
