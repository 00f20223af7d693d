// The one system call Node does not expose to a transparent proxy: getsockopt(SO_ORIGINAL_DST), which tells a socket that
// iptables REDIRECTed (Istio's istio-iptables) where its client was really connecting. Everything else stays in TypeScript.

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

// Returns [address, port] for the connected socket `fd`, or null when it was not redirected (or is not TCP).
static napi_value original_dst(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "originalDst(fd): fd must be an integer");
    return NULL;
  }
  struct sockaddr_storage own;
  socklen_t own_len = sizeof(own);
  if (getsockname(fd, (struct sockaddr *)&own, &own_len) != 0) {
    napi_get_null(env, &result);
    return result;
  }
  char text[INET6_ADDRSTRLEN];
  int port = 0;
  int found = 0;
  if (own.ss_family == AF_INET6) {
    struct sockaddr_in6 dst6;
    socklen_t len6 = sizeof(dst6);
    memset(&dst6, 0, sizeof(dst6));
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst6, &len6) == 0) {
      inet_ntop(AF_INET6, &dst6.sin6_addr, text, sizeof(text));
      port = ntohs(dst6.sin6_port);
      found = 1;
    }
  }
  if (!found) {
    // IPv4, including IPv4 clients of a dual-stack socket (v4-mapped): the IPv4 conntrack entry answers.
    struct sockaddr_in dst4;
    socklen_t len4 = sizeof(dst4);
    memset(&dst4, 0, sizeof(dst4));
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &dst4, &len4) == 0) {
      inet_ntop(AF_INET, &dst4.sin_addr, text, sizeof(text));
      port = ntohs(dst4.sin_port);
      found = 1;
    }
  }
  if (!found) {
    napi_get_null(env, &result);
    return result;
  }
  napi_value address, port_value;
  napi_create_array_with_length(env, 2, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &port_value);
  napi_set_element(env, result, 0, address);
  napi_set_element(env, result, 1, port_value);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
