/*
 * loop.c -- an epoll loop that sleeps exactly until the next thing can happen: a watched
 * fd becomes ready or the stack's next deadline arrives (DESIGN.md, host layer). The
 * stack is the only timer source, so there is no timer list here, only a deadline that
 * is re-read after every turn (tcpwave.h: "re-read it after every input, on_timeout or
 * socket call").
 *
 * epoll_pwait2 takes a timespec, so a deadline 300 us away is not rounded to a 1 ms
 * sleep (nor to 0, which would spin); kernels before 5.11 lack it and get ms, rounded up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"

/* Watched fds are few (TUN, stdin, stdout, a kernel socket in the demo): a small array
   keeps the callback lookup trivial. */
#define TW_LOOP_MAX_FDS 16

struct tw_loop_watch {
    int fd;
    tw_loop_fd_fn fn;
    void *ud;
};

struct tw_loop {
    int ep;
    bool no_pwait2;
    tw_stack *st;
    tw_time (*timer_next)(void *ud);
    void (*timer_run)(void *ud, tw_time now);
    void *timer_ud;
    struct tw_loop_watch w[TW_LOOP_MAX_FDS];
    int nw;
};

int tw_loop_new(tw_loop **out)
{
    tw_loop *l = calloc(1, sizeof *l);
    if (l == NULL) {
        return -ENOMEM;
    }
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        int e = errno;
        free(l);
        return -e;
    }
    *out = l;
    return 0;
}

void tw_loop_free(tw_loop *l)
{
    if (l == NULL) {
        return;
    }
    close(l->ep);
    free(l);
}

static struct tw_loop_watch *find(tw_loop *l, int fd)
{
    for (int i = 0; i < l->nw; i++) {
        if (l->w[i].fd == fd) {
            return &l->w[i];
        }
    }
    return NULL;
}

int tw_loop_add(tw_loop *l, int fd, uint32_t events, tw_loop_fd_fn fn, void *ud)
{
    if (find(l, fd) != NULL) {
        return -EEXIST;
    }
    if (l->nw == TW_LOOP_MAX_FDS) {
        return -ENOSPC;
    }
    struct epoll_event ev = {.events = events, .data.fd = fd};
    if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        return -errno;
    }
    l->w[l->nw++] = (struct tw_loop_watch){.fd = fd, .fn = fn, .ud = ud};
    return 0;
}

int tw_loop_mod(tw_loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

int tw_loop_del(tw_loop *l, int fd)
{
    struct tw_loop_watch *w = find(l, fd);
    if (w == NULL) {
        return -ENOENT;
    }
    *w = l->w[--l->nw];
    return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

void tw_loop_set_stack(tw_loop *l, tw_stack *st)
{
    l->st = st;
}

void tw_loop_set_timer(tw_loop *l, tw_time (*next)(void *ud), void (*run)(void *ud, tw_time now),
                       void *ud)
{
    l->timer_next = next;
    l->timer_run = run;
    l->timer_ud = ud;
}

static int wait_ns(tw_loop *l, struct epoll_event *evs, int max, tw_time ns)
{
    if (!l->no_pwait2) {
        struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                              .tv_nsec = (long)(ns % 1000000000u)};
        int n = epoll_pwait2(l->ep, evs, max, ns == TW_TIME_NEVER ? NULL : &ts, NULL);
        if (n >= 0 || errno != ENOSYS) {
            return n;
        }
        l->no_pwait2 = true;
    }
    int ms = -1;
    if (ns != TW_TIME_NEVER) {
        tw_time r = (ns + 999999u) / 1000000u;
        ms = r > 86400000u ? 86400000 : (int)r;
    }
    return epoll_wait(l->ep, evs, max, ms);
}

/* Wait up to `wait` ns and run the callbacks of the fds that are ready. Returns how many
   ran, or -errno. */
static int wait_and_dispatch(tw_loop *l, tw_time wait)
{
    struct epoll_event evs[TW_LOOP_MAX_FDS];
    int n = wait_ns(l, evs, TW_LOOP_MAX_FDS, wait);
    if (n < 0) {
        if (errno != EINTR) {
            return -errno;
        }
        n = 0;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        /* A callback may delete a later fd from the set; look each one up again. */
        struct tw_loop_watch *w = find(l, evs[i].data.fd);
        if (w != NULL) {
            w->fn(w->fd, evs[i].events, w->ud);
            ran++;
        }
    }
    return ran;
}

int tw_loop_run_once(tw_loop *l, tw_time max_wait)
{
    if (l->st == NULL) {
        return wait_and_dispatch(l, max_wait);
    }
    /* Order within a turn: first what is already waiting on the fds (packets that came in
       while the application worked: an ACK in there must be seen before a retransmission
       timer that fell due meanwhile fires), then the stack's due timers, then the wait.
       The application acts between turns, after the input, before on_timeout: a reply or
       FIN it writes carries the ACK the stack held for it (tcpwave.h). */
    int ran = wait_and_dispatch(l, 0);
    if (ran < 0) {
        return ran;
    }
    tw_time now = tw_host_now();
    if (l->timer_next != NULL && l->timer_next(l->timer_ud) <= now) {
        l->timer_run(l->timer_ud, now);
    }
    if (tw_stack_next_deadline(l->st) <= now) {
        tw_stack_on_timeout(l->st, now);
    }
    if (ran > 0) {
        return ran;
    }
    tw_time wait = max_wait;
    tw_time dl = tw_stack_next_deadline(l->st);
    if (l->timer_next != NULL) {
        tw_time t = l->timer_next(l->timer_ud);
        dl = t < dl ? t : dl;
    }
    if (dl != TW_TIME_NEVER) {
        tw_time until = dl > now ? dl - now : 0;
        if (until < wait) {
            wait = until;
        }
    }
    return wait_and_dispatch(l, wait);
}
