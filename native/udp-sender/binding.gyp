{
  "targets": [
    {
      "target_name": "udp_sender",
      "conditions": [
        ["OS=='linux'", { "sources": ["udp_sender.c"], "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"], "libraries": ["-lpthread"] }]
      ]
    }
  ]
}
