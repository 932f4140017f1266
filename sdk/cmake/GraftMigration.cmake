# graft_add_migration(<name> SOURCES <file>... [OUTPUT_DIRECTORY <dir>])
#
# Builds one migration plugin: a shared library named <name> plus the
# platform's suffix (<name>.so on Linux), exporting only graft_plugin_entry.
# Symbols are hidden so that two plugins never clash, and every symbol must
# resolve at link time, so a missing definition fails the build instead of
# failing `graft up`.
#
# <name> is the migration id. The plugin also carries its logic digest,
# "v1:sha256:<hex>" over the normalised SOURCES, the id and the SDK's ABI
# major (GraftLogicDigest.cmake says exactly how). It is computed at build
# time, so editing a source changes it on the next build without re-running
# cmake; it holds no path, so the same sources built anywhere give the same
# digest. graft compares it with the digest recorded when the migration ran
# to tell a changed migration from a mere rebuild. List in SOURCES every file
# whose edits change what the migration does (a shared header too).
#
# The plugin also carries its metadata (id, ABI, digest, description, whether
# it has a down step) as JSON in an ELF section, .graft_meta, which graft
# status, verify and sum read without loading the plugin. description and
# the down step are read from SOURCES: write `.description = "..."` as one
# string literal at the start of its line, and start the line of a down step
# with `.down =` (GraftLogicDigest.cmake has the exact rules). graft up
# refuses a plugin whose entry point disagrees with its metadata.
function(graft_add_migration name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "graft_add_migration(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE graft::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    # No build paths in the binary: rebuilding the same source elsewhere
    # gives the same code.
    target_compile_options(${name} PRIVATE
      "-ffile-prefix-map=${CMAKE_SOURCE_DIR}=." "-ffile-prefix-map=${CMAKE_BINARY_DIR}=.")
  endif()
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
    # Hidden visibility is not enough: Boost.System declares its error
    # categories visible, so without this list the plugin would also export
    # their vtables, typeinfo and inline members (weak symbols another plugin
    # or the host could bind to).
    set(map "${CMAKE_CURRENT_BINARY_DIR}/graft_plugin_exports.map")
    file(CONFIGURE OUTPUT "${map}" CONTENT "{ global: graft_plugin_entry; local: *; };\n")
    target_link_options(${name} PRIVATE "LINKER:--version-script=${map}")
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${map}")
  endif()
  _graft_add_logic_digest(${name} ${ARG_SOURCES})
endfunction()

# Adds to <target> a generated source defining graft_logic_digest (see
# graft/migration.hpp, which refers to it weakly).
function(_graft_add_logic_digest target)
  set(script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/GraftLogicDigest.cmake")
  # graft.h: next to this file in the source tree (sdk/cmake, sdk/include),
  # or under <prefix>/include when installed in <prefix>/lib/cmake/graft.
  set(abi_header "")
  foreach(dir "${GRAFT_SDK_INCLUDE_DIR}" "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../include"
              "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../../../include")
    if(NOT abi_header AND NOT dir STREQUAL "" AND EXISTS "${dir}/graft/graft.h")
      get_filename_component(abi_header "${dir}/graft/graft.h" ABSOLUTE)
    endif()
  endforeach()
  if(NOT abi_header)
    message(FATAL_ERROR "graft_add_migration(${target}): no graft/graft.h near "
                        "${CMAKE_CURRENT_FUNCTION_LIST_DIR} (set GRAFT_SDK_INCLUDE_DIR to the "
                        "SDK's include directory)")
  endif()
  set(sources "")
  foreach(source IN LISTS ARGN)
    get_filename_component(source "${source}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND sources "${source}")
  endforeach()
  set(output "${CMAKE_CURRENT_BINARY_DIR}/graft_logic_digest/${target}.c")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DID=${target}" "-DABI_HEADER=${abi_header}" "-DOUTPUT=${output}"
            -P "${script}" -- ${sources}
    DEPENDS ${sources} "${script}" "${abi_header}"
    COMMENT "Logic digest of migration ${target}"
    VERBATIM)
  # The generated file is both C and C++; compile it as C++ in a project
  # that did not enable C.
  get_property(languages GLOBAL PROPERTY ENABLED_LANGUAGES)
  if(NOT "C" IN_LIST languages)
    set_source_files_properties("${output}" PROPERTIES LANGUAGE CXX)
  endif()
  target_sources(${target} PRIVATE "${output}")
endfunction()
