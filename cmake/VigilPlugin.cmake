# SPDX-License-Identifier: Apache-2.0
# vigil_add_plugin(NAME n SOURCES a.cpp ... [PLUGIN_SOURCE plugin.cpp] [LIBS ...])
#   Builds <n>_impl (OBJECT, everything but plugin.cpp) for unit tests to link directly, and the
#   MODULE <n>.so (no "lib" prefix) that the agent loads. Hidden visibility keeps a plugin's
#   symbols from shadowing another's (Boost.DLL FAQ).
function(vigil_add_plugin)
  cmake_parse_arguments(P "" "NAME;PLUGIN_SOURCE" "SOURCES;LIBS" ${ARGN})
  if(NOT P_PLUGIN_SOURCE)
    set(P_PLUGIN_SOURCE plugin.cpp)
  endif()
  if(P_SOURCES)
    add_library(${P_NAME}_impl OBJECT ${P_SOURCES})
  else()
    add_library(${P_NAME}_impl INTERFACE)
  endif()
  if(P_SOURCES)
    set_target_properties(${P_NAME}_impl PROPERTIES CXX_VISIBILITY_PRESET hidden
                                                    VISIBILITY_INLINES_HIDDEN ON)
    target_link_libraries(${P_NAME}_impl PUBLIC vigil::sdk ${P_LIBS})
    target_include_directories(${P_NAME}_impl PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  else()
    target_link_libraries(${P_NAME}_impl INTERFACE vigil::sdk ${P_LIBS})
  endif()
  add_library(${P_NAME} MODULE ${P_PLUGIN_SOURCE})
  target_link_libraries(${P_NAME} PRIVATE ${P_NAME}_impl)
  set_target_properties(${P_NAME} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${P_NAME}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${VIGIL_PLUGIN_OUTPUT_DIR}
    INSTALL_RPATH "$ORIGIN/..")
  install(TARGETS ${P_NAME} LIBRARY DESTINATION ${VIGIL_INSTALL_PLUGIN_DIR} COMPONENT agent)
endfunction()
