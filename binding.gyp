{
  "variables": {
    # GYP_DEFINES="sanitize=1" builds with AddressSanitizer and UBSan (see .ci/run).
    "sanitize%": 0
  },
  "targets": [
    {
      "target_name": "memcache_ha_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/bench_hooks.cc",
        "native/src/commands.cc",
        "native/src/js_call.cc",
        "native/src/log.cc",
        "native/src/md5.cc",
        "native/src/net_address.cc",
        "native/src/numbers.cc",
        "native/src/proxy_backend.cc",
        "native/src/proxy_core.cc",
        "native/src/proxy_frame.cc",
        "native/src/proxy_hooks.cc",
        "native/src/proxy_reply.cc",
        "native/src/record.cc",
        "native/src/request.cc",
        "native/src/server.cc",
        "native/src/snapshot.cc",
        "native/src/store.cc",
        "native/src/tombstones.cc",
        "native/src/writer.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "conditions": [
        ["sanitize==1", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
