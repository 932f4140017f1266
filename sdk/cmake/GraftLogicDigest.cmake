# GraftLogicDigest.cmake -- writes the source file that embeds a migration's
# logic digest and its metadata. graft_add_migration runs it at build time,
# whenever one of the migration's sources (or graft.h, or this script) changed:
#
#   cmake -DID=<migration id> -DABI_HEADER=<graft/graft.h> -DOUTPUT=<file>
#         -P GraftLogicDigest.cmake -- <source>...
#
# The digest is "v1:sha256:" followed by the SHA-256 (lowercase hex) of this
# text, every line ending in LF:
#
#   graft logic digest v1
#   id <ID>
#   abi <GRAFT_ABI_MAJOR of ABI_HEADER>
#   source <SHA-256 of one normalised source>     (one line per source, sorted)
#
# A normalised source is its bytes without a leading UTF-8 byte order mark and
# with CRLF turned into LF, so a checkout on Windows gives the same digest. No
# path and no file name goes in: the same sources built in any directory give
# the same digest, and so does listing them in another order.
#
# The metadata is one line of JSON in an ELF section named .graft_meta, which
# the host reads from the file without loading it, so that graft status,
# verify and sum never run plugin code:
#
#   {"graft_meta":1,"id":"<ID>","abi":"<major>.<minor>","logic_digest":"v1:sha256:<hex>",
#    "description":"<text>","has_down":<true|false>}
#
# id, abi and digest are the build's own. description and has_down are read
# from the sources, line by line, because they exist only there:
#   - description: the string literal of the one line that starts (after
#     blanks) with `.description = "`; "" when no line does. It must be one
#     literal on that line; the build fails otherwise.
#   - has_down: whether a line starts with `.down =`, other than
#     `.down = std::nullopt` (or nullptr, NULL, 0).
# When the plugin is loaded for a run, the host compares this with what
# graft_plugin_entry returns and refuses a plugin on which they disagree.
cmake_minimum_required(VERSION 3.17)

foreach(var ID ABI_HEADER OUTPUT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "GraftLogicDigest.cmake: -D${var}=... is required")
  endif()
endforeach()

# Sets description and has_down (in the caller's scope) from one source's
# text; see the header of this file for the rules.
set(description "")
set(description_from "")
set(has_down FALSE)
string(ASCII 1 semicolon_stand_in)
string(ASCII 2 open_bracket_stand_in)
string(ASCII 3 close_bracket_stand_in)
function(_graft_scan_metadata source text)
  # One list element per line: the characters a CMake list treats specially
  # stand in for themselves until a line is used.
  string(REPLACE ";" "${semicolon_stand_in}" text "${text}")
  string(REPLACE "[" "${open_bracket_stand_in}" text "${text}")
  string(REPLACE "]" "${close_bracket_stand_in}" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  foreach(line IN LISTS lines)
    string(REPLACE "${semicolon_stand_in}" ";" line "${line}")
    string(REPLACE "${open_bracket_stand_in}" "[" line "${line}")
    string(REPLACE "${close_bracket_stand_in}" "]" line "${line}")
    if(line MATCHES "^[ \t]*\\.down[ \t]*=[ \t]*([^ \t,]*)")
      if(NOT CMAKE_MATCH_1 MATCHES "^(std::nullopt|nullptr|NULL|0)$")
        set(has_down TRUE PARENT_SCOPE)
      endif()
    endif()
    if(NOT line MATCHES "^[ \t]*\\.description[ \t]*=")
      continue()
    endif()
    if(NOT line MATCHES "^[ \t]*\\.description[ \t]*=[ \t]*\"(([^\"\\]|\\\\.)*)\"[ \t]*,?[ \t]*(//.*)?$")
      message(FATAL_ERROR "graft_add_migration(${ID}): ${source}: write .description as one "
                          "string literal on its line (graft embeds it in the plugin): ${line}")
    endif()
    set(literal "${CMAKE_MATCH_1}")
    if(description_from)
      message(FATAL_ERROR "graft_add_migration(${ID}): .description appears twice, in "
                          "${description_from} and ${source}; keep one")
    endif()
    # The literal's body becomes a JSON string's body: the escapes both
    # languages share mean the same; the others are refused.
    string(REGEX REPLACE "\\\\[\"\\\\nrtbfu]" "" other_escapes "${literal}")
    if(other_escapes MATCHES "\\\\")
      message(FATAL_ERROR "graft_add_migration(${ID}): ${source}: .description uses an escape "
                          "other than \\\" \\\\ \\n \\r \\t \\b \\f \\uXXXX: ${line}")
    endif()
    string(REPLACE "\t" "\\t" literal "${literal}")
    set(description "${literal}" PARENT_SCOPE)
    set(description_from "${source}" PARENT_SCOPE)
  endforeach()
endfunction()

set(sources "")
set(after_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(after_separator)
    list(APPEND sources "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(after_separator TRUE)
  endif()
endforeach()
if(NOT sources)
  message(FATAL_ERROR "GraftLogicDigest.cmake: no sources after --")
endif()

file(STRINGS "${ABI_HEADER}" abi_line REGEX "^#define GRAFT_ABI_MAJOR [0-9]+")
if(NOT abi_line MATCHES "^#define GRAFT_ABI_MAJOR ([0-9]+)")
  message(FATAL_ERROR "GraftLogicDigest.cmake: no \"#define GRAFT_ABI_MAJOR <n>\" in ${ABI_HEADER}")
endif()
set(abi_major "${CMAKE_MATCH_1}")
file(STRINGS "${ABI_HEADER}" abi_minor_line REGEX "^#define GRAFT_ABI_MINOR [0-9]+")
if(NOT abi_minor_line MATCHES "^#define GRAFT_ABI_MINOR ([0-9]+)")
  message(FATAL_ERROR "GraftLogicDigest.cmake: no \"#define GRAFT_ABI_MINOR <n>\" in ${ABI_HEADER}")
endif()
set(abi_minor "${CMAKE_MATCH_1}")

string(ASCII 239 187 191 utf8_bom)
set(source_hashes "")
foreach(source IN LISTS sources)
  file(READ "${source}" text)
  string(FIND "${text}" "${utf8_bom}" bom_at)
  if(bom_at EQUAL 0)
    string(SUBSTRING "${text}" 3 -1 text)
  endif()
  string(REPLACE "\r\n" "\n" text "${text}")
  string(SHA256 source_hash "${text}")
  list(APPEND source_hashes "${source_hash}")
  _graft_scan_metadata("${source}" "${text}")
endforeach()
list(SORT source_hashes)

set(digest_input "graft logic digest v1\nid ${ID}\nabi ${abi_major}\n")
foreach(source_hash IN LISTS source_hashes)
  string(APPEND digest_input "source ${source_hash}\n")
endforeach()
string(SHA256 digest "${digest_input}")

# The metadata as JSON, then as the body of a C string literal.
if(has_down)
  set(has_down_json "true")
else()
  set(has_down_json "false")
endif()
set(meta_json "{\"graft_meta\":1,\"id\":\"${ID}\",\"abi\":\"${abi_major}.${abi_minor}\",\"logic_digest\":\"v1:sha256:${digest}\",\"description\":\"${description}\",\"has_down\":${has_down_json}}")
string(REPLACE "\\" "\\\\" meta_literal "${meta_json}")
string(REPLACE "\"" "\\\"" meta_literal "${meta_literal}")

# Valid C and C++. In C++, extern "C" gives the definition C linkage, and
# external linkage, which a const at namespace scope would otherwise lack.
file(WRITE "${OUTPUT}" "/* Generated by graft_add_migration for ${ID}; do not edit. */
#ifdef __cplusplus
extern \"C\"
#endif
__attribute__((visibility(\"hidden\"))) const char graft_logic_digest[] =
    \"v1:sha256:${digest}\";

/* Read from the file by the host (graft status, verify, sum) without loading
 * the plugin; compared with graft_plugin_entry when it is loaded. */
#if defined(__has_attribute)
#if __has_attribute(retain)
__attribute__((retain))
#endif
#endif
__attribute__((section(\".graft_meta\"), used)) static const char graft_embedded_meta[] =
    \"${meta_literal}\";
")
