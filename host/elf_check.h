// elf_check.h -- is this file a whole shared library for this machine?
//
// dlopen() trusts the file: a truncated plugin (a half-finished copy) maps
// segments past the end of the file, loads "fine", and the host dies of
// SIGBUS at the first touch. So before anything is loaded, the bytes that
// were read (and hashed) are checked: ELF magic, class and machine of this
// host, a shared object, and every header and loadable segment inside the
// file. On platforms without ELF the check passes and the loader decides.
#ifndef GRAFT_HOST_ELF_CHECK_H_
#define GRAFT_HOST_ELF_CHECK_H_

#include <string>
#include <string_view>

namespace graft {

// "" when the bytes look like a loadable shared library for this host,
// else one sentence saying what is wrong and how to fix it.
std::string checkSharedLibrary(std::string_view bytes);

}  // namespace graft

#endif  // GRAFT_HOST_ELF_CHECK_H_
