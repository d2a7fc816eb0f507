// Batched UDP for gslbd: one recvmmsg(2) per readable event, one call into JavaScript per batch,
// one sendmmsg(2) for the batch's answers. Linux only; Node-API (C) only, so one build serves
// every Node version with the same N-API level. README.md beside this file says how it is used.

#define _GNU_SOURCE
// Node-API 8: async cleanup hooks, to close the socket when a worker thread's environment ends.
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

// The largest UDP payload: every datagram fits its slot whole, as with dgram.
#define SLOT 65536
#define MAX_BATCH 256
#define ADDR_TEXT 64

// An answer the kernel would not take yet (EAGAIN): kept, in order, until the socket is writable.
typedef struct pending {
  struct pending *next;
  struct sockaddr_storage to;
  socklen_t to_len;
  size_t size;
  unsigned char data[];
} pending;

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int batch;
  int closing;  // close() called: read no more, flush what is pending, then close
  int closed;   // the fd is closed; the handle waits for uv_close's callback
  int torn;     // the environment is ending (a worker thread's): no more calls into JavaScript
  napi_async_cleanup_hook_handle cleanup;  // registered at open; removed once the handle is closed
  int events;   // what the poll watches now
  // Receiving: slot i of `rx` holds datagram i of a batch; `meta` gives its length and port.
  unsigned char *rx;
  int32_t *meta;  // [length, port] per slot; length -1 for a datagram that did not fit
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  struct sockaddr_storage from[MAX_BATCH];
  napi_ref rx_ref, meta_ref, on_batch, on_close, self;
  napi_async_context async;
  pending *head, *tail;
  double sent, deferred, send_errors, truncated;
} udp;

static const char *errno_code(int e) {
  switch (e) {
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    default: return "ESYSCALL";
  }
}

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, "ERR_NATIVE", "Node-API call failed: " #call); \
      return NULL;                                                  \
    }                                                               \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void watch(udp *u, int events) {
  if (u->closed || events == u->events) return;
  u->events = events;
  if (events) uv_poll_start(&u->poll, events, on_poll);
  else uv_poll_stop(&u->poll);
}

static void free_udp(udp *u) {
  while (u->head) {
    pending *p = u->head;
    u->head = p->next;
    free(p);
  }
  napi_async_cleanup_hook_handle cleanup = u->cleanup;
  free(u);
  // Last: while registered, the environment's teardown waits for this handle.
  napi_remove_async_cleanup_hook(cleanup);
}

static void on_handle_closed(uv_handle_t *h) {
  udp *u = h->data;
  if (u->torn) {
    // The environment is going away with everything JavaScript held: only our memory is ours to free.
    free_udp(u);
    return;
  }
  napi_env env = u->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, self;
  if (u->on_close && napi_get_reference_value(env, u->on_close, &cb) == napi_ok && cb) {
    napi_get_reference_value(env, u->self, &self);
    napi_make_callback(env, u->async, self, cb, 0, NULL, NULL);
  }
  // The JavaScript object may outlive the socket: its methods find nothing to act on from now.
  napi_get_reference_value(env, u->self, &self);
  napi_remove_wrap(env, self, NULL);
  napi_close_handle_scope(env, scope);
  napi_ref *refs[] = {&u->rx_ref, &u->meta_ref, &u->on_batch, &u->on_close, &u->self};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (*refs[i]) napi_delete_reference(env, *refs[i]);
  napi_async_destroy(env, u->async);
  free_udp(u);
}

static void close_now(udp *u) {
  if (u->closed) return;
  u->closed = 1;
  uv_poll_stop(&u->poll);
  close(u->fd);
  uv_close((uv_handle_t *)&u->poll, on_handle_closed);
}

// The environment ends with the socket open (a worker thread that exits or dies): the handle must
// be closed before its loop is, or Node.js aborts the whole process. Kept answers are dropped.
static void on_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  udp *u = arg;
  u->torn = 1;
  close_now(u);
}

static int keep(udp *u, const struct sockaddr_storage *to, socklen_t to_len, const void *data, size_t size) {
  pending *p = malloc(sizeof *p + size);
  if (!p) return -1;
  p->next = NULL;
  p->to = *to;
  p->to_len = to_len;
  p->size = size;
  memcpy(p->data, data, size);
  if (u->tail) u->tail->next = p;
  else u->head = p;
  u->tail = p;
  u->deferred++;
  return 0;
}

// Sends msgs[0..n) with as few sendmmsg calls as the kernel allows. Returns how many left the
// socket or were given up on (an error other than EAGAIN drops that one answer, as dgram would);
// the caller keeps the rest.
static int send_all(udp *u, struct mmsghdr *msgs, int n) {
  int off = 0;
  while (off < n) {
    int r = sendmmsg(u->fd, msgs + off, (unsigned)(n - off), 0);
    if (r > 0) {
      off += r;
      u->sent += r;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else {
      off++;  // this answer cannot go (e.g. EMSGSIZE, ENETUNREACH); the next ones still may
      u->send_errors++;
    }
  }
  return off;
}

// Writable: the kept answers go out, oldest first, a batch of them at a time.
static void flush(udp *u) {
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  while (u->head) {
    int n = 0;
    for (pending *p = u->head; p && n < MAX_BATCH; p = p->next, n++) {
      iov[n].iov_base = p->data;
      iov[n].iov_len = p->size;
      memset(&msgs[n], 0, sizeof msgs[n]);
      msgs[n].msg_hdr.msg_name = &p->to;
      msgs[n].msg_hdr.msg_namelen = p->to_len;
      msgs[n].msg_hdr.msg_iov = &iov[n];
      msgs[n].msg_hdr.msg_iovlen = 1;
    }
    int done = send_all(u, msgs, n);
    for (int i = 0; i < done; i++) {
      pending *p = u->head;
      u->head = p->next;
      free(p);
    }
    if (!u->head) u->tail = NULL;
    if (done < n) return;  // EAGAIN again: wait for the next writable event
  }
}

// The answers JavaScript returned for a batch: `answers[i]` (a Buffer, or anything else for none)
// goes to the sender of datagram i. Sent at once, or kept if the kernel says EAGAIN.
static void send_answers(udp *u, napi_value answers, int count) {
  napi_env env = u->env;
  bool is_array = false;
  if (!answers || napi_is_array(env, answers, &is_array) != napi_ok || !is_array) return;
  struct mmsghdr out[MAX_BATCH];
  struct iovec iov[MAX_BATCH];
  int n = 0;
  for (int i = 0; i < count; i++) {
    napi_value v;
    bool is_buffer = false;
    if (napi_get_element(env, answers, (uint32_t)i, &v) != napi_ok) continue;
    if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) continue;
    void *data;
    size_t size;
    if (napi_get_buffer_info(env, v, &data, &size) != napi_ok) continue;
    iov[n].iov_base = data;
    iov[n].iov_len = size;
    memset(&out[n], 0, sizeof out[n]);
    out[n].msg_hdr.msg_name = &u->from[i];
    out[n].msg_hdr.msg_namelen = u->msgs[i].msg_hdr.msg_namelen;
    out[n].msg_hdr.msg_iov = &iov[n];
    out[n].msg_hdr.msg_iovlen = 1;
    n++;
  }
  // Answers already waiting go first: order kept, and none overtakes another.
  int done = u->head ? 0 : send_all(u, out, n);
  for (int i = done; i < n; i++) {
    if (keep(u, out[i].msg_hdr.msg_name, out[i].msg_hdr.msg_namelen, iov[i].iov_base, iov[i].iov_len) != 0)
      u->send_errors++;
  }
}

// Readable: one recvmmsg, one call into JavaScript, one sendmmsg; as long as the kernel has more,
// up to a bound so that timers and other sockets get their turn.
static void receive(udp *u) {
  napi_env env = u->env;
  for (int round = 0; round < 8 && !u->closing && !u->head; round++) {
    for (int i = 0; i < u->batch; i++) {
      u->iov[i].iov_base = u->rx + (size_t)i * SLOT;
      u->iov[i].iov_len = SLOT;
      u->msgs[i].msg_hdr.msg_name = &u->from[i];
      u->msgs[i].msg_hdr.msg_namelen = sizeof u->from[i];
      u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
      u->msgs[i].msg_hdr.msg_iovlen = 1;
      u->msgs[i].msg_hdr.msg_control = NULL;
      u->msgs[i].msg_hdr.msg_controllen = 0;
      u->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(u->fd, u->msgs, (unsigned)u->batch, MSG_DONTWAIT, NULL);
    if (n <= 0) return;  // EAGAIN: drained; another error (ICMP-reported) is the next read's
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value cb, self, argv[1], answers = NULL;
    // Lengths and ports only: the source address is made text by peer(i) when JavaScript asks
    // (most answers never need it; inet_ntop and a string per datagram were 3 % of a query).
    for (int i = 0; i < n; i++) {
      struct sockaddr_storage *s = &u->from[i];
      int port = s->ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)s)->sin_port)
                 : s->ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)s)->sin6_port)
                                            : 0;
      int truncated = (u->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      if (truncated) u->truncated++;
      u->meta[2 * i] = truncated ? -1 : (int32_t)u->msgs[i].msg_len;
      u->meta[2 * i + 1] = port;
    }
    napi_get_reference_value(env, u->on_batch, &cb);
    napi_get_reference_value(env, u->self, &self);
    napi_create_int32(env, n, &argv[0]);
    // make_callback, as Node's own I/O does: promises and nextTicks queued by the batch run after it.
    napi_status st = napi_make_callback(env, u->async, self, cb, 1, argv, &answers);
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
      answers = NULL;
    }
    if (!u->closed) send_answers(u, answers, n);
    napi_close_handle_scope(env, scope);
    if (n < u->batch) return;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  udp *u = h->data;
  if (status < 0 || u->closed) return;
  if (events & UV_WRITABLE) flush(u);
  if ((events & UV_READABLE) && !u->head) receive(u);
  if (u->closed) return;
  if (u->closing && !u->head) {
    close_now(u);
    return;
  }
  // Answers kept: stop reading until they are out, so that queries wait in the kernel's receive
  // buffer (bounded, counted by it) instead of their answers piling up here.
  watch(u, u->head ? UV_WRITABLE : (u->closing ? 0 : UV_READABLE));
}

static udp *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || !data) {
    napi_throw_error(env, "ERR_NATIVE", "not an open batched UDP socket");
    return NULL;
  }
  return data;
}

// send(address, port, answer): one answer outside a batch (an UPDATE's, which comes later).
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  udp *u = unwrap(env, info, &argc, argv);
  if (!u) return NULL;
  if (u->closed) return NULL;
  char host[ADDR_TEXT];
  size_t len;
  int32_t port;
  void *data;
  size_t size;
  CHECK(napi_get_value_string_latin1(env, argv[0], host, sizeof host, &len));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_buffer_info(env, argv[2], &data, &size));
  struct sockaddr_storage to;
  socklen_t to_len;
  memset(&to, 0, sizeof to);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&to;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&to;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    to_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    to_len = sizeof *a6;
  } else {
    return NULL;
  }
  struct iovec iov = {data, size};
  struct mmsghdr m;
  memset(&m, 0, sizeof m);
  m.msg_hdr.msg_name = &to;
  m.msg_hdr.msg_namelen = to_len;
  m.msg_hdr.msg_iov = &iov;
  m.msg_hdr.msg_iovlen = 1;
  if ((u->head || send_all(u, &m, 1) == 0) && keep(u, &to, to_len, data, size) == 0) watch(u, UV_WRITABLE);
  return NULL;
}

// peer(i): the source address of datagram i of the batch being handled, as text ("" if unknown).
// Valid only during that batch's callback: the next recvmmsg writes over it.
static napi_value js_peer(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  udp *u = unwrap(env, info, &argc, argv);
  if (!u) return NULL;
  int32_t i = -1;
  CHECK(napi_get_value_int32(env, argv[0], &i));
  char text[ADDR_TEXT] = "";
  if (i >= 0 && i < u->batch) {
    struct sockaddr_storage *s = &u->from[i];
    if (s->ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)s)->sin_addr, text, sizeof text);
    else if (s->ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)s)->sin6_addr, text, sizeof text);
  }
  CHECK(napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

// close(callback, force): no more reading; kept answers go out first unless `force`.
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  udp *u = unwrap(env, info, &argc, argv);
  if (!u) return NULL;
  if (u->closed) return NULL;
  bool force = false;
  if (argc > 1) napi_get_value_bool(env, argv[1], &force);
  if (!u->on_close && argc > 0) CHECK(napi_create_reference(env, argv[0], 1, &u->on_close));
  u->closing = 1;
  if (force || !u->head) close_now(u);
  else watch(u, UV_WRITABLE);
  return NULL;
}

static napi_value int_value(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// stats(): SO_RCVBUF as the kernel reports it, the port bound, and the send counters.
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  udp *u = unwrap(env, info, &argc, NULL);
  if (!u) return NULL;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  int rcvbuf = 0, sndbuf = 0;
  socklen_t l = sizeof rcvbuf;
  struct sockaddr_storage me;
  socklen_t me_len = sizeof me;
  int port = 0;
  if (!u->closed) {
    getsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &l);
    l = sizeof sndbuf;
    getsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &l);
    if (getsockname(u->fd, (struct sockaddr *)&me, &me_len) == 0)
      port = ntohs(me.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
                                            : ((struct sockaddr_in *)&me)->sin_port);
  }
  int queued = 0;
  for (pending *p = u->head; p; p = p->next) queued++;
  const struct { const char *name; double v; } fields[] = {
      {"port", port},     {"receiveBuffer", rcvbuf}, {"sendBuffer", sndbuf},
      {"sent", u->sent},  {"deferred", u->deferred}, {"sendErrors", u->send_errors},
      {"truncated", u->truncated}, {"queued", queued},
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    CHECK(napi_set_named_property(env, out, fields[i].name, int_value(env, fields[i].v)));
  return out;
}

static int set_int(int fd, int level, int name, int v) { return setsockopt(fd, level, name, &v, sizeof v); }

// open({host, port, reusePort, receiveBuffer, sendBuffer, batch}, onBatch) → socket object with
// rx (Buffer: `batch` slots of 64 KiB), meta (Int32Array: length and port per slot), peer(i) (a
// sender's address as text), send(), close(), stats(). onBatch(count) returns the answers.
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char host[ADDR_TEXT];
  size_t len;
  int32_t port = 0, rcvbuf = 0, sndbuf = 0, batch = 32;
  bool reuse = false;
  CHECK(napi_get_named_property(env, argv[0], "host", &v));
  CHECK(napi_get_value_string_latin1(env, v, host, sizeof host, &len));
  CHECK(napi_get_named_property(env, argv[0], "port", &v));
  CHECK(napi_get_value_int32(env, v, &port));
  CHECK(napi_get_named_property(env, argv[0], "reusePort", &v));
  CHECK(napi_get_value_bool(env, v, &reuse));
  CHECK(napi_get_named_property(env, argv[0], "receiveBuffer", &v));
  CHECK(napi_get_value_int32(env, v, &rcvbuf));
  CHECK(napi_get_named_property(env, argv[0], "sendBuffer", &v));
  CHECK(napi_get_value_int32(env, v, &sndbuf));
  CHECK(napi_get_named_property(env, argv[0], "batch", &v));
  CHECK(napi_get_value_int32(env, v, &batch));
  if (batch < 1 || batch > MAX_BATCH) batch = 32;

  struct sockaddr_storage addr;
  socklen_t addr_len;
  memset(&addr, 0, sizeof addr);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
  int family;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    family = a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    addr_len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    family = a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    addr_len = sizeof *a6;
  } else {
    return throw_errno(env, "not an IP address", EINVAL);
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  // As dgram does for gslbd: an IPv6 socket takes IPv6 only; SO_RCVBUF once bound.
  if ((family == AF_INET6 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) != 0) ||
      (reuse && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) != 0) ||
      bind(fd, (struct sockaddr *)&addr, addr_len) != 0 ||
      (rcvbuf > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf) != 0) ||
      (sndbuf > 0 && set_int(fd, SOL_SOCKET, SO_SNDBUF, sndbuf) != 0)) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }

  udp *u = calloc(1, sizeof *u);
  if (!u) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  u->env = env;
  u->fd = fd;
  u->batch = batch;
  napi_value self, rx, meta_ab, meta, name, fn;
  void *rx_data, *meta_data;
  // Memory V8 owns, so JavaScript reads the datagrams where the kernel wrote them; the pages of a
  // slot are touched only as far as its datagrams reach.
  CHECK(napi_create_buffer(env, (size_t)batch * SLOT, &rx_data, &rx));
  CHECK(napi_create_arraybuffer(env, (size_t)batch * 2 * sizeof(int32_t), &meta_data, &meta_ab));
  CHECK(napi_create_typedarray(env, napi_int32_array, (size_t)batch * 2, meta_ab, 0, &meta));
  u->rx = rx_data;
  u->meta = meta_data;
  CHECK(napi_create_object(env, &self));
  CHECK(napi_set_named_property(env, self, "rx", rx));
  CHECK(napi_set_named_property(env, self, "meta", meta));
  const struct { const char *name; napi_callback cb; } methods[] = {
      {"send", js_send}, {"close", js_close}, {"stats", js_stats}, {"peer", js_peer}};
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
    CHECK(napi_create_function(env, methods[i].name, NAPI_AUTO_LENGTH, methods[i].cb, NULL, &fn));
    CHECK(napi_set_named_property(env, self, methods[i].name, fn));
  }
  CHECK(napi_wrap(env, self, u, NULL, NULL, NULL));
  CHECK(napi_create_reference(env, rx, 1, &u->rx_ref));
  CHECK(napi_create_reference(env, meta, 1, &u->meta_ref));
  CHECK(napi_create_reference(env, argv[1], 1, &u->on_batch));
  // The socket object lives while the socket is open, whoever else holds it.
  CHECK(napi_create_reference(env, self, 1, &u->self));
  CHECK(napi_create_string_latin1(env, "gslbd.udp", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, self, name, &u->async));
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  uv_poll_init(loop, &u->poll, fd);
  u->poll.data = u;
  u->events = UV_READABLE;
  uv_poll_start(&u->poll, UV_READABLE, on_poll);
  CHECK(napi_add_async_cleanup_hook(env, on_teardown, u, &u->cleanup));
  return self;
}

// What JavaScript expects of this module (src/6-serve/batched-udp.ts checks it): raised whenever the
// interface changes, so that a module built from an older udp_batch.c is refused, not misused.
#define INTERFACE_VERSION 2

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, version;
  CHECK(napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "open", fn));
  CHECK(napi_create_int32(env, INTERFACE_VERSION, &version));
  CHECK(napi_set_named_property(env, exports, "version", version));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
