// An upper bound, not a product: a memcached-shaped server that does almost nothing in user
// space (no store; every get answers one fixed 1,024-byte value, every set STORED), so that
// memcaslap against it shows how fast any single-threaded server can be on this host's kernel
// and load tool. docs/benchmarks.md ("How far one thread can go here") gives its figures.
//
//   gcc -O2 -Wall -o /tmp/upper-bound bench/probe/upper-bound-server.c -luring   # liburing-dev
//   /tmp/upper-bound epoll|epoll-defer|uring PORT
//
// epoll:       read, answer, write per ready connection: memcached's shape (and the node's).
// epoll-defer: the same, but the writes of one epoll_wait batch leave after all its reads, so
//              the client wakes once per batch rather than once per reply.
// uring:       io_uring; each connection's recv is re-armed and its send queued, and one
//              io_uring_enter per batch of completions submits them all.
#define _GNU_SOURCE
#include <liburing.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#define MAXC 4096
#define VAL 1024
typedef struct { int fd; char in[65536]; size_t len; char out[65536]; size_t olen, osent; int sending; size_t need; } conn;
static conn *cs[MAXC];
static char value[VAL];
static void answer(conn *c) {
  size_t pos = 0;
  for (;;) {
    if (c->need) { size_t avail = c->len - pos; if (avail < c->need) { c->need -= avail; pos = c->len; break; } pos += c->need; c->need = 0; memcpy(c->out + c->olen, "STORED\r\n", 8); c->olen += 8; continue; }
    char *nl = memchr(c->in + pos, '\n', c->len - pos);
    if (!nl) break;
    char *line = c->in + pos; size_t ll = nl - line + 1; pos += ll;
    if (ll > 4 && !memcmp(line, "get ", 4)) {
      char *k = line + 4; size_t kl = ll - 4 - 2;
      c->olen += sprintf(c->out + c->olen, "VALUE %.*s 0 %d\r\n", (int)kl, k, VAL);
      memcpy(c->out + c->olen, value, VAL); c->olen += VAL; memcpy(c->out + c->olen, "\r\nEND\r\n", 7); c->olen += 7;
    } else if (ll > 4 && !memcmp(line, "set ", 4)) {
      char *sp = memrchr(line, ' ', ll - 2); c->need = strtoul(sp + 1, 0, 10) + 2;
    } else { memcpy(c->out + c->olen, "ERROR\r\n", 7); c->olen += 7; }
  }
  memmove(c->in, c->in + pos, c->len - pos); c->len -= pos;
}
static int lsock(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1; setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 4);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001)};
  if (bind(s, (void *)&a, sizeof a) || listen(s, 1024)) { perror("bind"); exit(1); }
  return s;
}
static void run_epoll(int l, int defer) {
  int ep = epoll_create1(0); struct epoll_event e = {.events = EPOLLIN, .data.fd = l}; epoll_ctl(ep, EPOLL_CTL_ADD, l, &e);
  struct epoll_event evs[1024]; int pend[1024];
  for (;;) {
    int n = epoll_wait(ep, evs, 1024, -1), np = 0;
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) { int c = accept4(l, 0, 0, SOCK_NONBLOCK); int one = 1; setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, 4); cs[c] = calloc(1, sizeof(conn)); cs[c]->fd = c; struct epoll_event ce = {.events = EPOLLIN, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce); continue; }
      conn *c = cs[fd]; ssize_t r = read(fd, c->in + c->len, sizeof c->in - c->len);
      if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; close(fd); free(c); cs[fd] = 0; continue; }
      c->len += r; answer(c);
      if (!c->olen) continue;
      if (defer) pend[np++] = fd; else { write(fd, c->out, c->olen); c->olen = 0; }
    }
    for (int i = 0; i < np; i++) { conn *c = cs[pend[i]]; write(c->fd, c->out, c->olen); c->olen = 0; }
  }
}
static struct io_uring ring;
enum { ACCEPT = 1, RECV = 2, SEND = 3 };
#define TAG(k, fd) ((uint64_t)(k) << 32 | (uint32_t)(fd))
static void arm_recv(conn *c) { struct io_uring_sqe *s = io_uring_get_sqe(&ring); io_uring_prep_recv(s, c->fd, c->in + c->len, sizeof c->in - c->len, 0); io_uring_sqe_set_data64(s, TAG(RECV, c->fd)); }
static void arm_send(conn *c) { struct io_uring_sqe *s = io_uring_get_sqe(&ring); io_uring_prep_send(s, c->fd, c->out + c->osent, c->olen - c->osent, 0); io_uring_sqe_set_data64(s, TAG(SEND, c->fd)); c->sending = 1; }
static void run_uring(int l) {
  struct io_uring_params p = {0}; p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN;
  if (io_uring_queue_init_params(4096, &ring, &p)) { fprintf(stderr, "uring init failed\n"); exit(1); }
  struct io_uring_sqe *s = io_uring_get_sqe(&ring); io_uring_prep_multishot_accept(s, l, 0, 0, 0); io_uring_sqe_set_data64(s, TAG(ACCEPT, l));
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *cqe; unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      n++; uint64_t d = cqe->user_data; int k = d >> 32, fd = (int)(uint32_t)d, res = cqe->res;
      if (k == ACCEPT) { if (res >= 0) { int one = 1; setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, 4); cs[res] = calloc(1, sizeof(conn)); cs[res]->fd = res; arm_recv(cs[res]); } continue; }
      conn *c = cs[fd]; if (!c) continue;
      if (k == RECV) {
        if (res <= 0) { close(fd); free(c); cs[fd] = 0; continue; }
        c->len += res; answer(c);
        if (c->olen && !c->sending) arm_send(c);
        arm_recv(c);
      } else {
        c->sending = 0; if (res < 0) continue; c->osent += res;
        if (c->osent < c->olen) arm_send(c); else c->olen = c->osent = 0;
      }
    }
    io_uring_cq_advance(&ring, n);
  }
}
int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s epoll|epoll-defer|uring PORT\n", argv[0]); return 2; }
  memset(value, 'x', VAL); int l = lsock(atoi(argv[2]));
  if (!strcmp(argv[1], "uring")) run_uring(l); else run_epoll(l, !strcmp(argv[1], "epoll-defer"));
}
