#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: $CC $CFLAGS (instrumentation and
# sanitizer already in them), $LIB_FUZZING_ENGINE to link. Produces
# $OUT/fuzz_<name>, $OUT/fuzz_<name>_seed_corpus.zip, $OUT/fuzz_<name>.dict.
if [ -n "${SRC:-}" ] && [ -d "$SRC/pop3spec" ]; then
  src=$SRC/pop3spec
else
  src=$(cd "$(dirname "$0")/.." && pwd)
fi
build=$WORK/pop3spec-build

# The harness library (pop3spec_core) is only needed when a target uses it.
harness=OFF
if grep -qE '#include "(sc|nt|ref|run|rp)[_a-z]*\.h"' "$src"/fuzz/fuzz_*.c; then
  harness=ON
fi
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_BUILD_TYPE=Release -DP3S_FUZZ_ENGINE=libfuzzer -DP3S_FUZZ_LINK="$LIB_FUZZING_ENGINE" \
  -DP3S_BUILD_TESTS=OFF -DP3S_BUILD_BENCH=OFF -DP3S_BUILD_HARNESS=$harness
cmake --build "$build" -j"$(nproc)"

for bin in "$build"/fuzz/fuzz_*; do
  case $bin in *.dict) continue ;; esac
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  cp "$bin" "$OUT/$name"
  cp "$src/fuzz/pop3.dict" "$OUT/$name.dict"
  if [ -d "$src/corpus/$name" ]; then
    (cd "$src/corpus/$name" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
  fi
done
