{
  "targets": [
    {
      "target_name": "hpckv_mpi",
      "sources": ["src/hpckv_mpi.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "include_dirs": ["<!@(node mpi-flags.cjs include_dirs)"],
      "defines": ["NAPI_VERSION=8", "OMPI_SKIP_MPICXX=1", "MPICH_SKIP_MPICXX=1", "<!@(node mpi-flags.cjs defines)"],
      "libraries": ["<!@(node mpi-flags.cjs libraries)"],
      "cflags_cc": ["-std=c++17"]
    }
  ]
}
