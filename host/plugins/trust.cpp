#include "plugins/trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace graft {
namespace {

std::string modeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Checks owner and write bits of one file or directory.
std::string checkOne(const std::string& path, const struct stat& st, bool is_dir) {
  const uid_t me = geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    return (is_dir ? "directory " : "file ") + path + " is owned by uid " +
           std::to_string(st.st_uid) + ", not by this user (uid " + std::to_string(me) +
           ") or root (chown it, or load plugins from a directory you own)";
  }
  const bool sticky_dir = is_dir && (st.st_mode & S_ISVTX);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
    return (is_dir ? "directory " : "file ") + path + " is writable by " +
           ((st.st_mode & S_IWOTH) ? "others" : "its group") + " (mode " + modeText(st.st_mode) +
           "; fix with chmod go-w " + path + ")";
  }
  return "";
}

}  // namespace

std::string untrustedReason(const std::string& path) {
  struct stat st;
  // A file that is not there is for the open stage to report.
  if (lstat(path.c_str(), &st) != 0) return "";
  if (S_ISLNK(st.st_mode))
    return "file " + path + " is a symlink (copy the plugin itself into the plugin directory)";
  if (!S_ISREG(st.st_mode)) return "file " + path + " is not a regular file";
  if (std::string why = checkOne(path, st, false); !why.empty()) return why;

  // Every directory from the file's own up to the root: whoever can write
  // any of them can swap what is below.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  while (true) {
    if (stat(dir.c_str(), &st) != 0) return dir.string() + ": " + std::strerror(errno);
    if (std::string why = checkOne(dir.string(), st, true); !why.empty()) return why;
    if (dir == dir.root_path() || dir.empty()) break;
    dir = dir.parent_path();
  }
  return "";
}

}  // namespace graft
