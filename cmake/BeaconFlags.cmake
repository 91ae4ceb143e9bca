# beacon_flags: the warnings, sanitizers and hardening every first-party target
# links PRIVATE. Nothing here touches CMAKE_C_FLAGS.
add_library(beacon_flags INTERFACE)
target_compile_features(beacon_flags INTERFACE c_std_11)
set_target_properties(beacon_flags PROPERTIES INTERFACE_C_EXTENSIONS OFF)
target_compile_definitions(beacon_flags INTERFACE _GNU_SOURCE
  BEACON_VERSION="${PROJECT_VERSION}")
target_compile_options(beacon_flags INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wvla -Wimplicit-fallthrough -Wcast-qual
  $<$<BOOL:${BEACON_WERROR}>:-Werror>)
if(BEACON_SANITIZE)
  target_compile_options(beacon_flags INTERFACE
    -fsanitize=${BEACON_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(beacon_flags INTERFACE -fsanitize=${BEACON_SANITIZE})
endif()
if(BEACON_FUZZ)
  # Coverage instrumentation for every first-party object, so libFuzzer
  # sees into the libraries and not only the entry points.
  target_compile_options(beacon_flags INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(BEACON_HARDEN)
  target_compile_options(beacon_flags INTERFACE
    -fstack-protector-strong
    $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
  target_link_options(beacon_flags INTERFACE -Wl,-z,relro,-z,now)
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
endif()

# The wire codec is where integer width matters most: it gets -Wconversion too.
add_library(beacon_codec_flags INTERFACE)
target_compile_options(beacon_codec_flags INTERFACE -Wconversion -Wsign-conversion)
