/*
 * err.c -- names and descriptions: errors, states, counters (all generated from the
 * X-macro lists in tcpwave.h, so they cannot drift).
 */
#include "tcpwave.h"

#include <string.h>

/* see tcpwave.h */
const char *tw_strerror(int err)
{
    switch (err) {
#define TW_ERR_STR_(name, val, desc)                                                       \
    case val:                                                                              \
        return desc;
        TW_ERRORS(TW_ERR_STR_)
#undef TW_ERR_STR_
    default:
        return "unknown error";
    }
}

/* see tcpwave.h */
const char *tw_error_name(int err)
{
    switch (err) {
#define TW_ERR_NAME_(name, val, desc)                                                      \
    case val:                                                                              \
        return #name;
        TW_ERRORS(TW_ERR_NAME_)
#undef TW_ERR_NAME_
    default:
        return "?";
    }
}

static const char *const state_names[TW_STATE_COUNT_] = {
    "CLOSED",     "LISTEN",     "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK",     "TIME-WAIT",
};

/* see tcpwave.h */
const char *tw_state_name(tw_state s)
{
    return (unsigned)s < TW_STATE_COUNT_ ? state_names[s] : "?";
}

static const char *const counter_names[TW_CNT_COUNT_] = {
#define TW_CNT_NAME_(name, desc) #name,
    TW_COUNTERS(TW_CNT_NAME_)
#undef TW_CNT_NAME_
};

static const char *const counter_descs[TW_CNT_COUNT_] = {
#define TW_CNT_DESC_(name, desc) desc,
    TW_COUNTERS(TW_CNT_DESC_)
#undef TW_CNT_DESC_
};

/* see tcpwave.h */
const char *tw_counter_name(enum tw_counter id)
{
    return (unsigned)id < TW_CNT_COUNT_ ? counter_names[id] : "?";
}

/* see tcpwave.h */
const char *tw_counter_desc(enum tw_counter id)
{
    return (unsigned)id < TW_CNT_COUNT_ ? counter_descs[id] : "?";
}

/* see tcpwave.h */
int tw_counter_lookup(const char *name)
{
    if (!name) {
        return -1;
    }
    for (int i = 0; i < TW_CNT_COUNT_; i++) {
        if (strcmp(counter_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}
