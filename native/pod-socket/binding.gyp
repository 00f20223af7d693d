{
  "targets": [
    {
      "target_name": "pod_socket",
      "sources": ["pod_socket.c"],
      "cflags": ["-Wall", "-O2"]
    }
  ]
}
