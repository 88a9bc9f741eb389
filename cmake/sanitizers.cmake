# Sanitizer and fuzzing builds (issue 16, items 5 and 6). Each is meant for its own build
# directory (scripts/test.sh --sanitize / --tsan, scripts/fuzz.sh), never for build/:
#   -DORDERLAKE_SANITIZE=address   every target with -fsanitize=address,undefined (gcc or clang)
#   -DORDERLAKE_SANITIZE=thread    every target with -fsanitize=thread (gcc or clang)
#   -DORDERLAKE_FUZZ=ON            clang only: everything with ASan+UBSan and libFuzzer's
#                                  coverage (fuzzer-no-link), plus the targets of fuzz/
# libduckdb.so is a prebuilt library and stays uninstrumented (see docs/testing.md).
set(ORDERLAKE_SANITIZE "" CACHE STRING "Sanitizers for every target: empty, address (ASan+UBSan) or thread (TSan)")
set_property(CACHE ORDERLAKE_SANITIZE PROPERTY STRINGS "" address thread)
option(ORDERLAKE_FUZZ "Build the libFuzzer targets of fuzz/ (clang only; implies ASan+UBSan)" OFF)

if(ORDERLAKE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ORDERLAKE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(ORDERLAKE_SANITIZE STREQUAL "thread")
    message(FATAL_ERROR "ORDERLAKE_FUZZ runs under ASan+UBSan; it cannot be combined with ORDERLAKE_SANITIZE=thread")
  endif()
  set(ORDERLAKE_SANITIZE address CACHE STRING "" FORCE)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(ORDERLAKE_SANITIZE STREQUAL "address")
  # UBSan findings abort (no recovery), so a test or a fuzzer cannot pass over one.
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
elseif(ORDERLAKE_SANITIZE STREQUAL "thread")
  set(_san -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT ORDERLAKE_SANITIZE STREQUAL "")
  message(FATAL_ERROR "ORDERLAKE_SANITIZE must be empty, address or thread (not '${ORDERLAKE_SANITIZE}')")
endif()
if(_san)
  add_compile_options(${_san})
  add_link_options(${_san})
  # Line tables are enough for sanitizer stacks, and compile and link much faster than -g.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    add_compile_options(-gline-tables-only)
  endif()
endif()
