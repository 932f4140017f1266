// Tests for host/plugins/elf_check.cpp: a file that is not a whole shared
// library for this machine is refused from its bytes, before dlopen maps
// it (a truncated copy would load and then die of SIGBUS).
#include "plugins/elf_check.h"

#include <elf.h>
#include <link.h>

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "harness.h"
#include "plugins/plugin_meta.h"

namespace graft {
namespace {

ElfW(Ehdr) headerOf(const std::string& bytes) {
  ElfW(Ehdr) header;
  std::memcpy(&header, bytes.data(), sizeof header);
  return header;
}

std::string withHeader(std::string bytes, const ElfW(Ehdr) & header) {
  std::memcpy(bytes.data(), &header, sizeof header);
  return bytes;
}

std::string truncatedReason(size_t size, unsigned long long needed) {
  return "truncated: the file has " + std::to_string(size) + " bytes, its headers need " +
         std::to_string(needed) + " (copy or build the plugin again)";
}

struct Fixture {
  const std::string lib = test::readBytes(test::testPlugin("counter"));
  const ElfW(Ehdr) header = headerOf(lib);
};

BOOST_AUTO_TEST_SUITE(elf_check)

BOOST_FIXTURE_TEST_CASE(a_built_plugin_passes, Fixture) {
  BOOST_TEST(checkSharedLibrary(lib) == "");
  BOOST_TEST(header.e_type == ET_DYN);
}

BOOST_FIXTURE_TEST_CASE(refuses_each_kind_of_wrong_file_in_one_sentence_with_a_fix, Fixture) {
  const int other_machine = header.e_machine == EM_X86_64 ? EM_AARCH64 : EM_X86_64;
  auto edited = [&](auto edit) {
    ElfW(Ehdr) h = header;
    edit(h);
    return withHeader(lib, h);
  };
  std::string class32 = lib;
  class32[EI_CLASS] = ELFCLASS32;
  struct Case {
    const char* name;
    std::string bytes;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"empty", "",
       "the file is empty (is it still being copied? copy it under another name, then mv it into "
       "place)"},
      {"text", "#!/bin/sh\necho this is a script, not a library\n",
       "not a shared library: no ELF header (build it with graft_add_migration)"},
      {"shorter than the magic",
       "\x7f"
       "EL",
       "not a shared library: no ELF header (build it with graft_add_migration)"},
      {"magic but shorter than the identification", lib.substr(0, 8),
       "not a shared library: no ELF header (build it with graft_add_migration)"},
      {"32-bit", class32,
       "built for 32-bit, this host is 64-bit (build the plugin for this machine)"},
      {"identification only", lib.substr(0, EI_NIDENT), truncatedReason(EI_NIDENT, sizeof header)},
      {"another machine", edited([&](ElfW(Ehdr) & h) { h.e_machine = other_machine; }),
       "built for another architecture (ELF machine " + std::to_string(other_machine) +
           ", this host is " + std::to_string(header.e_machine) +
           "; build the plugin for this machine)"},
      {"object file", edited([](ElfW(Ehdr) & h) { h.e_type = ET_REL; }),
       "an object file (.o), not a shared library: link it into one (graft_add_migration does)"},
      {"executable", edited([](ElfW(Ehdr) & h) { h.e_type = ET_EXEC; }),
       "an executable, not a shared library (build it with graft_add_migration)"},
      {"core dump", edited([](ElfW(Ehdr) & h) { h.e_type = ET_CORE; }),
       "a core dump, not a shared library (build the plugin with graft_add_migration)"},
      {"unknown type", edited([](ElfW(Ehdr) & h) { h.e_type = 0x1234; }),
       "not a shared library: ELF type 4660 (build it with graft_add_migration)"},
      {"cut inside the section headers", lib.substr(0, lib.size() - 1),
       truncatedReason(lib.size() - 1,
                       header.e_shoff + 1ULL * header.e_shnum * header.e_shentsize)},
      {"cut inside the program headers", lib.substr(0, header.e_phoff + 1),
       truncatedReason(header.e_phoff + 1,
                       header.e_phoff + 1ULL * header.e_phnum * header.e_phentsize)},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) { BOOST_TEST(checkSharedLibrary(c.bytes) == c.reason); }
  }
}

// A class byte that is neither 32- nor 64-bit says the file is damaged; it
// was once named 64-bit ("built for 64-bit, this host is 64-bit").
BOOST_FIXTURE_TEST_CASE(an_invalid_elf_class_is_not_called_the_host_class, Fixture) {
  for (const int elf_class : {ELFCLASSNONE, 3}) {
    BOOST_TEST_CONTEXT("class " << elf_class) {
      std::string bytes = lib;
      bytes[EI_CLASS] = static_cast<char>(elf_class);
      BOOST_TEST(checkSharedLibrary(bytes) == "not a shared library: ELF class " +
                                                  std::to_string(elf_class) +
                                                  " is neither 32- nor 64-bit (copy or build the "
                                                  "plugin again)");
    }
  }
}

// With the section headers out of the way, a cut that leaves every header
// whole still leaves a loadable segment short: the copy that SIGBUSes.
BOOST_FIXTURE_TEST_CASE(refuses_a_loadable_segment_that_ends_past_the_file, Fixture) {
  std::vector<ElfW(Phdr)> segments(header.e_phnum);
  std::memcpy(segments.data(), lib.data() + header.e_phoff, segments.size() * sizeof(ElfW(Phdr)));
  unsigned long long last_end = 0;
  for (const auto& s : segments)
    if (s.p_type == PT_LOAD)
      last_end = std::max<unsigned long long>(last_end, s.p_offset + s.p_filesz);
  BOOST_TEST_REQUIRE(last_end > header.e_phoff + 1ULL * header.e_phnum * sizeof(ElfW(Phdr)));
  ElfW(Ehdr) no_sections = header;
  no_sections.e_shoff = 0;
  no_sections.e_shnum = 0;
  const std::string cut = withHeader(lib, no_sections).substr(0, last_end - 1);
  // The first loadable segment, in header order, that the cut leaves short.
  unsigned long long needed = 0;
  for (const auto& s : segments) {
    if (s.p_type == PT_LOAD && s.p_offset + s.p_filesz > cut.size()) {
      needed = s.p_offset + s.p_filesz;
      break;
    }
  }
  BOOST_TEST(checkSharedLibrary(cut) == truncatedReason(cut.size(), needed));
  BOOST_TEST(checkSharedLibrary(withHeader(lib, no_sections)) == "");
}

BOOST_FIXTURE_TEST_CASE(finds_the_metadata_section_of_a_built_plugin, Fixture) {
  std::optional<std::string_view> section;
  std::string why;
  BOOST_TEST_REQUIRE(findElfSection(lib, kMetaSection, &section, &why), why);
  BOOST_TEST(why == "");
  BOOST_TEST_REQUIRE(section.has_value());
  BOOST_TEST(section->find("\"id\":\"test_counter\"") != std::string_view::npos,
             std::string(*section));
  // Within the file's bytes, not a copy.
  BOOST_TEST(section->data() >= lib.data());
  BOOST_TEST(section->data() + section->size() <= lib.data() + lib.size());
}

BOOST_FIXTURE_TEST_CASE(no_such_section_or_no_section_headers_is_no_section, Fixture) {
  std::optional<std::string_view> section = std::string_view("stale");
  std::string why;
  BOOST_TEST(findElfSection(lib, ".graft_nothing", &section, &why));
  BOOST_TEST(!section.has_value());
  ElfW(Ehdr) none = header;
  none.e_shoff = 0;
  section = std::string_view("stale");
  BOOST_TEST(findElfSection(withHeader(lib, none), kMetaSection, &section, &why));
  BOOST_TEST(!section.has_value());
  BOOST_TEST(why == "");
}

BOOST_FIXTURE_TEST_CASE(refuses_section_headers_that_lie_outside_the_file, Fixture) {
  const std::string size = std::to_string(lib.size());
  const unsigned long long table = 1ULL * header.e_shnum * sizeof(ElfW(Shdr));
  struct Case {
    const char* name;
    std::string bytes;
    std::string why;
  };
  auto edited = [&](auto edit) {
    ElfW(Ehdr) h = header;
    edit(h);
    return withHeader(lib, h);
  };
  const std::vector<Case> cases = {
      {"short header", lib.substr(0, 20), truncatedReason(20, sizeof(ElfW(Ehdr)))},
      {"entry size", edited([](ElfW(Ehdr) & h) { h.e_shentsize = 40; }),
       "section headers are 40 bytes each, expected " + std::to_string(sizeof(ElfW(Shdr))) +
           " (copy or build the plugin again)"},
      {"table past the end", edited([&](ElfW(Ehdr) & h) { h.e_shoff = lib.size() - 8; }),
       "the section header table at bytes " + std::to_string(lib.size() - 8) + ".." +
           std::to_string(lib.size() - 8 + table) + " lies outside the file, which has " + size +
           " bytes (copy or build the plugin again)"},
      {"name table index", edited([](ElfW(Ehdr) & h) { h.e_shstrndx = h.e_shnum; }),
       "the section name table is section " + std::to_string(header.e_shnum) + ", and there are " +
           std::to_string(header.e_shnum) + " (copy or build the plugin again)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      std::optional<std::string_view> section;
      std::string why;
      BOOST_TEST(!findElfSection(c.bytes, kMetaSection, &section, &why));
      BOOST_TEST(why == c.why);
      BOOST_TEST(!section.has_value());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
