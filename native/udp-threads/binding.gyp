{
  "targets": [
    {
      "target_name": "udp_threads",
      "conditions": [
        ["OS=='linux'", { "sources": ["udp_common.c", "udp_socket.c", "udp_sender.c", "udp_receiver.c"], "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"], "libraries": ["-lpthread"] }]
      ]
    }
  ]
}
