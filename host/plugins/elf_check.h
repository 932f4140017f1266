// elf_check.h -- is this file a whole shared library for this machine?
//
// dlopen() trusts the file: a truncated plugin (a half-finished copy) maps
// segments past the end of the file, loads "fine", and the host dies of
// SIGBUS at the first touch. So before anything is loaded, the bytes that
// were read (and hashed) are checked: ELF magic, class and machine of this
// host, a shared object, and every header and loadable segment inside the
// file. On platforms without ELF the check passes and the loader decides.
#ifndef GRAFT_HOST_PLUGINS_ELF_CHECK_H_
#define GRAFT_HOST_PLUGINS_ELF_CHECK_H_

#include <optional>
#include <string>
#include <string_view>

namespace graft {

// "" when the bytes look like a loadable shared library for this host,
// else one sentence saying what is wrong and how to fix it.
std::string checkSharedLibrary(std::string_view bytes);

// Finds the section named `name` through the section headers of `bytes`,
// without loading anything. The file may be truncated or hostile: every
// header, name and the section itself are checked to lie inside `bytes`.
// Returns false with *why set to one sentence when they do not (or when
// `name` appears twice); true with *section empty when there is no such
// section (or no section headers at all), else with *section viewing the
// section's bytes inside `bytes`.
// REQUIRES: checkSharedLibrary(bytes) is "".
bool findElfSection(std::string_view bytes, std::string_view name,
                    std::optional<std::string_view>* section, std::string* why);

}  // namespace graft

#endif  // GRAFT_HOST_PLUGINS_ELF_CHECK_H_
