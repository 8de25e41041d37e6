# SPDX-License-Identifier: Apache-2.0
# vigil_add_catch_tests(TARGET t TAGS unit integration ...)
#   Registers one CTest test per Catch2 tag, labelled with the tag, so `ctest -L unit` runs the
#   fast tests and `ctest -L integration` the ones needing real services. Debian's Catch2 2.13
#   catch_discover_tests does not map tags to labels, hence this.
function(vigil_add_catch_tests)
  cmake_parse_arguments(T "" "TARGET;TIMEOUT" "TAGS;ENVIRONMENT" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  foreach(tag IN LISTS T_TAGS)
    add_test(NAME ${T_TARGET}.${tag}
             COMMAND ${T_TARGET} "[${tag}]" --reporter compact --durations no
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(${T_TARGET}.${tag} PROPERTIES LABELS ${tag} TIMEOUT ${T_TIMEOUT})
    if(tag STREQUAL "fault")
      # Fault tests kill and restart the shared services: nothing else may run meanwhile.
      set_tests_properties(${T_TARGET}.${tag} PROPERTIES RUN_SERIAL TRUE)
    endif()
    if(T_ENVIRONMENT)
      set_tests_properties(${T_TARGET}.${tag} PROPERTIES ENVIRONMENT "${T_ENVIRONMENT}")
    endif()
  endforeach()
endfunction()
