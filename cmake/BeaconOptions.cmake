# Every build option of the project, in one place.
option(BEACON_WERROR "Treat compiler warnings as errors" OFF)
set(BEACON_SANITIZE "" CACHE STRING
    "Comma-separated -fsanitize= list, e.g. address,undefined (empty: none)")
option(BEACON_FUZZ "Build the libFuzzer targets (needs clang)" OFF)
option(BEACON_HARDEN "Fortify, stack protector, PIE, full RELRO" ON)
