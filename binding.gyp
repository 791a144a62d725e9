{
  "variables": {
    # GYP_DEFINES="sanitize=1" builds with AddressSanitizer and UBSan, "sanitize=thread" with
    # ThreadSanitizer (see .ci/run).
    "sanitize%": 0,
    # GYP_DEFINES="dev=1" also builds the test and benchmark addon (native/dev/), which the tests
    # and `npm run bench` load and the package never holds. It is named .addon, not .node, so
    # that node-gyp-build and prebuildify, which take the first .node file in build/Release,
    # can only ever find the product addon.
    "dev%": 0
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags": ["-fPIC"],
    "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"],
    "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
    "conditions": [
      ["sanitize==1", {
        "cflags_cc": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer", "-g"],
        "ldflags": ["-fsanitize=address,undefined"]
      }],
      ["sanitize=='thread'", {
        "cflags_cc": ["-fsanitize=thread", "-fno-omit-frame-pointer", "-g"],
        "ldflags": ["-fsanitize=thread"]
      }]
    ]
  },
  "targets": [
    {
      # The node's and the proxy's C++, none of it aware of N-API: linked into the addon (and
      # into the dev addon, which tests it).
      "target_name": "mcha_core",
      "type": "static_library",
      "sources": [
        "native/src/common/listener.cc",
        "native/src/common/log.cc",
        "native/src/common/loop_notifier.cc",
        "native/src/common/md5.cc",
        "native/src/common/net_address.cc",
        "native/src/protocol/base64.cc",
        "native/src/protocol/binary.cc",
        "native/src/protocol/line_limits.cc",
        "native/src/protocol/meta_request.cc",
        "native/src/protocol/numbers.cc",
        "native/src/protocol/reply_writer.cc",
        "native/src/protocol/request.cc",
        "native/src/engine/auth/credentials.cc",
        "native/src/engine/commands/binary.cc",
        "native/src/engine/commands/execute.cc",
        "native/src/engine/commands/meta.cc",
        "native/src/engine/commands/stats.cc",
        "native/src/engine/commands/writes.cc",
        "native/src/engine/net/connection.cc",
        "native/src/engine/net/server.cc",
        "native/src/engine/net/worker.cc",
        "native/src/engine/replica/apply.cc",
        "native/src/engine/replica/codec.cc",
        "native/src/engine/replica/snapshot.cc",
        "native/src/engine/store/clock.cc",
        "native/src/engine/store/slab_classes.cc",
        "native/src/engine/store/store.cc",
        "native/src/engine/store/tombstones.cc",
        "native/src/engine/native_engine.cc",
        "native/src/proxy/backend_connection.cc",
        "native/src/proxy/backend_node.cc",
        "native/src/proxy/client.cc",
        "native/src/proxy/dispatcher.cc",
        "native/src/proxy/merge.cc",
        "native/src/proxy/meta_framer.cc",
        "native/src/proxy/binary_framer.cc",
        "native/src/proxy/proxy_core.cc",
        "native/src/proxy/proxy_stats.cc",
        "native/src/proxy/reply_reader.cc",
        "native/src/proxy/request_framer.cc"
      ]
    },
    {
      "target_name": "memcache_ha_native",
      "dependencies": ["mcha_core"],
      "sources": [
        "native/src/addon.cc",
        "native/src/bindings/engine_binding.cc",
        "native/src/bindings/js_call.cc",
        "native/src/bindings/log_binding.cc",
        "native/src/bindings/proxy_binding.cc",
        "native/src/bindings/values.cc"
      ]
    }
  ],
  "conditions": [
    ["dev==1", {
      "targets": [
        {
          "target_name": "memcache_ha_dev",
          "dependencies": ["mcha_core"],
          "target_conditions": [["_type=='loadable_module'", {"product_extension": "addon"}]],
          "sources": [
            "native/dev/dev_addon.cc",
            "native/dev/bench_hooks.cc",
            "native/dev/load_generator.cc",
            "native/dev/proxy_hooks.cc"
          ]
        },
        {
          # The C++ unit tests: a program over mcha_core that `npm test` runs.
          "target_name": "native_unit_tests",
          "type": "executable",
          "dependencies": ["mcha_core"],
          "include_dirs": ["native/dev/unit"],
          "sources": [
            "native/dev/unit/unit_main.cc",
            "native/dev/unit/binary_test.cc",
            "native/dev/unit/meta_test.cc",
            "native/dev/unit/protocol_test.cc",
            "native/dev/unit/proxy_test.cc",
            "native/dev/unit/replica_test.cc",
            "native/dev/unit/store_test.cc"
          ]
        }
      ]
    }]
  ]
}
