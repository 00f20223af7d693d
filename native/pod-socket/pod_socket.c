// Sockets in another network namespace, for the node proxy (ztunnel) that serves every ambient pod from one process, as
// Istio's in-pod redirection does: setns() into the pod's namespace on this thread, create the socket (a socket belongs
// to the namespace it was created in, whichever thread uses it later), mark it, setns() back. Node has no setns() and
// no SO_MARK; everything else (accepting, connecting, TLS) stays in TypeScript on the returned file descriptor.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>

#define MAX_PATH 512

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[MAX_PATH + 128];
  snprintf(message, sizeof(message), "%s: %s", what, strerror(err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, err == EPERM ? "EPERM" : err == ENOENT ? "ENOENT" : err == EADDRINUSE ? "EADDRINUSE" : "EPODSOCKET", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_throw(env, error);
  return NULL;
}

static int read_string(napi_env env, napi_value v, char *out, size_t size) {
  size_t len = 0;
  return napi_get_value_string_utf8(env, v, out, size, &len) == napi_ok && len > 0 && len < size - 1;
}

// Runs `make` inside the namespace at `path` on this thread; returns the fd it made or -errno.
typedef int (*maker)(void *arg);

static int in_netns(const char *path, maker make, void *arg) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) return -errno;
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(self);
    return -e;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    close(target);
    close(self);
    return -e;
  }
  int fd = make(arg);
  // Back to the process's own namespace before anything else runs on this thread.
  if (setns(self, CLONE_NEWNET) != 0) {
    if (fd >= 0) close(fd);
    fd = -errno;
  }
  close(target);
  close(self);
  return fd;
}

struct socket_args {
  int family;
  unsigned int mark;
  int listen;
  char host[INET6_ADDRSTRLEN];
  int port;
};

static int make_socket(void *p) {
  struct socket_args *a = p;
  int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  // The pod's capture rules skip packets with this mark (Istio's 0x539): the proxy's own connections are not redirected.
  if (a->mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &a->mark, sizeof(a->mark)) != 0) goto fail;
  if (a->listen) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (a->family == AF_INET6) {
      int zero = 0;  // dual stack: IPv4 clients too
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
      struct sockaddr_in6 sa;
      memset(&sa, 0, sizeof(sa));
      sa.sin6_family = AF_INET6;
      sa.sin6_port = htons(a->port);
      if (inet_pton(AF_INET6, a->host, &sa.sin6_addr) != 1) { errno = EINVAL; goto fail; }
      if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) goto fail;
    } else {
      struct sockaddr_in sa;
      memset(&sa, 0, sizeof(sa));
      sa.sin_family = AF_INET;
      sa.sin_port = htons(a->port);
      if (inet_pton(AF_INET, a->host, &sa.sin_addr) != 1) { errno = EINVAL; goto fail; }
      if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) goto fail;
    }
    if (listen(fd, 511) != 0) goto fail;
  }
  return fd;
fail: {
    int e = errno;
    close(fd);
    return -e;
  }
}

// listenInNetns(path, host, port, mark) → fd of a listening TCP socket bound to host:port inside the namespace.
static napi_value listen_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH];
  struct socket_args a = {0};
  int32_t port = 0;
  uint32_t mark = 0;
  if (argc < 4 || !read_string(env, argv[0], path, sizeof(path)) || !read_string(env, argv[1], a.host, sizeof(a.host)) ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || napi_get_value_uint32(env, argv[3], &mark) != napi_ok) {
    napi_throw_type_error(env, NULL, "listenInNetns(path, host, port, mark)");
    return NULL;
  }
  a.family = strchr(a.host, ':') ? AF_INET6 : AF_INET;
  a.port = port;
  a.mark = mark;
  a.listen = 1;
  int fd = in_netns(path, make_socket, &a);
  if (fd < 0) return throw_errno(env, path, -fd);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

// socketInNetns(path, family, mark) → fd of an unconnected TCP socket (family 4 or 6) inside the namespace.
static napi_value socket_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH];
  int32_t family = 0;
  uint32_t mark = 0;
  if (argc < 3 || !read_string(env, argv[0], path, sizeof(path)) || napi_get_value_int32(env, argv[1], &family) != napi_ok || napi_get_value_uint32(env, argv[2], &mark) != napi_ok) {
    napi_throw_type_error(env, NULL, "socketInNetns(path, family, mark)");
    return NULL;
  }
  struct socket_args a = {0};
  a.family = family == 6 ? AF_INET6 : AF_INET;
  a.mark = mark;
  int fd = in_netns(path, make_socket, &a);
  if (fd < 0) return throw_errno(env, path, -fd);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "listenInNetns", NAPI_AUTO_LENGTH, listen_in_netns, NULL, &fn);
  napi_set_named_property(env, exports, "listenInNetns", fn);
  napi_create_function(env, "socketInNetns", NAPI_AUTO_LENGTH, socket_in_netns, NULL, &fn);
  napi_set_named_property(env, exports, "socketInNetns", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
