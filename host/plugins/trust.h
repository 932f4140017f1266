// trust.h -- may this plugin file be loaded at all?
//
// Loading a shared library runs its code (constructors run inside dlopen,
// before any check of ours), with the rights of the process that holds the
// application's data. So, as sudo and OpenSSH do for their files, a plugin
// is refused when someone other than its owner could have put it there:
//   - the file is a symlink or not a regular file;
//   - the file, its directory or any parent directory is owned by someone
//     other than this user or root;
//   - any of them is writable by group or others (a directory with the
//     sticky bit, such as /tmp, is fine: others can not replace entries in
//     it that they do not own).
#ifndef GRAFT_HOST_PLUGINS_TRUST_H_
#define GRAFT_HOST_PLUGINS_TRUST_H_

#include <string>

namespace graft {

// "" when `path` (absolute) may be loaded (or does not exist: opening it
// will say so), else what is wrong and the fix.
std::string untrustedReason(const std::string& path);

}  // namespace graft

#endif  // GRAFT_HOST_PLUGINS_TRUST_H_
