#include "plugins/elf_check.h"

#if defined(__linux__)
#include <elf.h>
#include <link.h>

#include <cstring>
#endif

namespace graft {

#if defined(__linux__)
namespace {

constexpr unsigned char kHostClass = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;

#if defined(__x86_64__)
constexpr int kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr int kHostMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr int kHostMachine = EM_386;
#elif defined(__arm__)
constexpr int kHostMachine = EM_ARM;
#elif defined(__riscv)
constexpr int kHostMachine = EM_RISCV;
#else
constexpr int kHostMachine = -1;  // unknown: leave it to the loader
#endif

template <class T>
bool readAt(std::string_view bytes, size_t offset, T* out) {
  if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
  std::memcpy(out, bytes.data() + offset, sizeof(T));
  return true;
}

std::string truncated(unsigned long long needed, size_t size) {
  return "truncated: the file has " + std::to_string(size) + " bytes, its headers need " +
         std::to_string(needed) + " (copy or build the plugin again)";
}

// What an ELF type other than ET_DYN is, in words a plugin author knows.
std::string elfTypeName(unsigned type) {
  switch (type) {
    case ET_REL:
      return "an object file (.o), not a shared library: link it into one (graft_add_migration "
             "does)";
    case ET_EXEC:
      return "an executable, not a shared library (build it with graft_add_migration)";
    case ET_CORE:
      return "a core dump, not a shared library (build the plugin with graft_add_migration)";
    default:
      return "not a shared library: ELF type " + std::to_string(type) +
             " (build it with graft_add_migration)";
  }
}

// The section headers of `bytes`, whose ELF header is `header`, read with
// every offset checked to lie inside `bytes`. On failure *why says why.
class SectionHeaders {
 public:
  SectionHeaders(std::string_view bytes, ElfW(Ehdr) header, std::string* why)
      : bytes_(bytes), header_(header), why_(why) {}

  // The table and the section name table lie inside the file.
  bool check() {
    if (header_.e_shentsize != sizeof(ElfW(Shdr))) {
      *why_ = "section headers are " + std::to_string(header_.e_shentsize) +
              " bytes each, expected " + std::to_string(sizeof(ElfW(Shdr))) +
              " (copy or build the plugin again)";
      return false;
    }
    const unsigned long long table_size = 1ULL * header_.e_shnum * sizeof(ElfW(Shdr));
    if (!fits(header_.e_shoff, table_size))
      return outside("the section header table", header_.e_shoff, table_size);
    if (header_.e_shstrndx >= header_.e_shnum) {
      *why_ = "the section name table is section " + std::to_string(header_.e_shstrndx) +
              ", and there are " + std::to_string(header_.e_shnum) +
              " (copy or build the plugin again)";
      return false;
    }
    const ElfW(Shdr) names = sectionAt(header_.e_shstrndx);
    if (names.sh_type == SHT_NOBITS || !fits(names.sh_offset, names.sh_size))
      return outside("the section name table", names.sh_offset, names.sh_size);
    name_table_ = bytes_.substr(names.sh_offset, names.sh_size);
    return true;
  }

  // The section named `name`, as findElfSection says. REQUIRES: check().
  bool find(std::string_view name, std::optional<std::string_view>* section) {
    for (unsigned i = 0; i < header_.e_shnum; ++i) {
      const ElfW(Shdr) candidate = sectionAt(i);
      if (candidate.sh_name >= name_table_.size()) continue;
      std::string_view candidate_name = name_table_.substr(candidate.sh_name);
      candidate_name = candidate_name.substr(0, candidate_name.find('\0'));
      if (candidate_name != name) continue;
      const std::string what = "section " + std::string(name);
      if (section->has_value()) {
        *why_ = what + " appears twice (build the plugin again with graft_add_migration)";
        return false;
      }
      if (candidate.sh_type == SHT_NOBITS) {
        *why_ =
            what + " holds no bytes in the file (build the plugin again with graft_add_migration)";
        return false;
      }
      if (!fits(candidate.sh_offset, candidate.sh_size))
        return outside(what, candidate.sh_offset, candidate.sh_size);
      *section = bytes_.substr(candidate.sh_offset, candidate.sh_size);
    }
    return true;
  }

 private:
  bool fits(unsigned long long from, unsigned long long size) const {
    return from <= bytes_.size() && size <= bytes_.size() - from;
  }
  // Sets *why for `what`, which lies outside the file; returns false.
  bool outside(const std::string& what, unsigned long long from, unsigned long long size) {
    // A hostile size could wrap the sum around.
    const unsigned long long end = size > ~0ULL - from ? ~0ULL : from + size;
    *why_ = what + " at bytes " + std::to_string(from) + ".." + std::to_string(end) +
            " lies outside the file, which has " + std::to_string(bytes_.size()) +
            " bytes (copy or build the plugin again)";
    return false;
  }
  ElfW(Shdr) sectionAt(unsigned index) const {
    ElfW(Shdr) out;
    readAt(bytes_, header_.e_shoff + 1ULL * index * sizeof out, &out);
    return out;
  }

  const std::string_view bytes_;
  const ElfW(Ehdr) header_;
  std::string* const why_;
  std::string_view name_table_;
};

}  // namespace

std::string checkSharedLibrary(std::string_view bytes) {
  // A plugin copied into the directory is empty for a moment.
  if (bytes.empty())
    return "the file is empty (is it still being copied? copy it under another name, then mv it "
           "into place)";
  if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0)
    return "not a shared library: no ELF header (build it with graft_add_migration)";
  const unsigned char elf_class = static_cast<unsigned char>(bytes[EI_CLASS]);
  if (elf_class != ELFCLASS32 && elf_class != ELFCLASS64)
    return "not a shared library: ELF class " + std::to_string(elf_class) +
           " is neither 32- nor 64-bit (copy or build the plugin again)";
  if (elf_class != kHostClass)
    return std::string("built for ") + (bytes[EI_CLASS] == ELFCLASS32 ? "32" : "64") +
           "-bit, this host is " + (kHostClass == ELFCLASS32 ? "32" : "64") +
           "-bit (build the plugin for this machine)";
  ElfW(Ehdr) header;
  if (!readAt(bytes, 0, &header)) return truncated(sizeof header, bytes.size());
  if (kHostMachine >= 0 && header.e_machine != kHostMachine)
    return "built for another architecture (ELF machine " + std::to_string(header.e_machine) +
           ", this host is " + std::to_string(kHostMachine) + "; build the plugin for this machine)";
  if (header.e_type != ET_DYN) return elfTypeName(header.e_type);
  const unsigned long long ph_end =
      static_cast<unsigned long long>(header.e_phoff) + 1ULL * header.e_phnum * header.e_phentsize;
  if (header.e_phentsize != sizeof(ElfW(Phdr)) || ph_end > bytes.size())
    return truncated(ph_end, bytes.size());
  const unsigned long long sh_end =
      static_cast<unsigned long long>(header.e_shoff) + 1ULL * header.e_shnum * header.e_shentsize;
  if (sh_end > bytes.size()) return truncated(sh_end, bytes.size());
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    ElfW(Phdr) segment;
    readAt(bytes, header.e_phoff + i * sizeof segment, &segment);
    const unsigned long long end = static_cast<unsigned long long>(segment.p_offset) + segment.p_filesz;
    if (segment.p_type == PT_LOAD && end > bytes.size()) return truncated(end, bytes.size());
  }
  return "";
}

bool findElfSection(std::string_view bytes, std::string_view name,
                    std::optional<std::string_view>* section, std::string* why) {
  section->reset();
  ElfW(Ehdr) header;
  if (!readAt(bytes, 0, &header)) {
    *why = truncated(sizeof header, bytes.size());
    return false;
  }
  // No section headers (e_shnum 0 also covers the extended numbering of
  // 65280 sections or more, which no plugin has): nothing to find.
  if (header.e_shoff == 0 || header.e_shnum == 0 || header.e_shstrndx == SHN_UNDEF) return true;
  SectionHeaders headers(bytes, header, why);
  return headers.check() && headers.find(name, section);
}

#else

std::string checkSharedLibrary(std::string_view) { return ""; }

bool findElfSection(std::string_view, std::string_view, std::optional<std::string_view>* section,
                    std::string*) {
  section->reset();
  return true;
}

#endif

}  // namespace graft
