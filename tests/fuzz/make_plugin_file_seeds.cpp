// Writes the seeds of plugin_file_fuzz into the directory given as its
// argument (tests/fuzz/corpus/plugin_file): minimal little-endian ELF64
// shared objects for x86-64 (the machine the fuzz targets run on), each
// with the headers the readers look at and nothing else, built field by
// field so that each seed is a few hundred bytes and says what it is. Run by
// hand when the seeds change:
//   cmake --build build-fuzz --target make_plugin_file_seeds
//   build-fuzz/tests/fuzz/make_plugin_file_seeds tests/fuzz/corpus/plugin_file
// The seed linked_stripped is not written here: it is what the linker makes
// of a C file with the section, linked with -shared -nostdlib and small
// page sizes, then stripped, so that the corpus holds a real layout too.
#include <elf.h>
#include <link.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

const std::string kMeta =
    R"({"graft_meta":1,"id":"20260101_000000_seed","abi":"1.3",)"
    R"("logic_digest":"v1:sha256:00112233445566778899aabbccddeeff)"
    R"(00112233445566778899aabbccddeeff",)"
    R"("description":"a \"seed\"\twith escapes","has_down":true})";

struct Section {
  std::string name;
  ElfW(Word) type = SHT_PROGBITS;
  std::string bytes;
};

template <class T>
void put(std::string* out, size_t offset, const T& value) {
  std::memcpy(out->data() + offset, &value, sizeof value);
}

// Header, one PT_LOAD over the whole file, the sections' bytes, the section
// name table, then the section header table, as a linker lays them out.
std::string sharedObject(const std::vector<Section>& sections, bool with_section_headers = true) {
  std::string file(sizeof(ElfW(Ehdr)) + sizeof(ElfW(Phdr)), '\0');
  std::string names(1, '\0');
  std::vector<ElfW(Shdr)> headers(1);  // index 0: the null section
  auto add = [&](const std::string& name, ElfW(Word) type, const std::string& bytes) {
    ElfW(Shdr) header{};
    header.sh_name = static_cast<ElfW(Word)>(names.size());
    names += name + '\0';
    header.sh_type = type;
    header.sh_flags = type == SHT_STRTAB ? 0 : SHF_ALLOC;
    header.sh_offset = file.size();
    header.sh_addr = type == SHT_STRTAB ? 0 : file.size();
    header.sh_size = bytes.size();
    header.sh_addralign = 1;
    if (type != SHT_NOBITS) file += bytes;
    headers.push_back(header);
  };
  for (const auto& s : sections) add(s.name, s.type, s.bytes);
  // The name table names itself last, so its own name must be in it first.
  const std::string shstrtab = ".shstrtab";
  ElfW(Shdr) name_table{};
  name_table.sh_name = static_cast<ElfW(Word)>(names.size());
  names += shstrtab + '\0';
  name_table.sh_type = SHT_STRTAB;
  name_table.sh_offset = file.size();
  name_table.sh_size = names.size();
  name_table.sh_addralign = 1;
  file += names;
  headers.push_back(name_table);
  while (file.size() % 8) file += '\0';

  ElfW(Ehdr) ehdr{};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_DYN;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_phoff = sizeof(ElfW(Ehdr));
  ehdr.e_ehsize = sizeof(ElfW(Ehdr));
  ehdr.e_phentsize = sizeof(ElfW(Phdr));
  ehdr.e_phnum = 1;
  ehdr.e_shentsize = sizeof(ElfW(Shdr));
  if (with_section_headers) {
    ehdr.e_shoff = file.size();
    ehdr.e_shnum = static_cast<ElfW(Half)>(headers.size());
    ehdr.e_shstrndx = static_cast<ElfW(Half)>(headers.size() - 1);
    for (const auto& h : headers) file.append(reinterpret_cast<const char*>(&h), sizeof h);
  }
  ElfW(Phdr) load{};
  load.p_type = PT_LOAD;
  load.p_flags = PF_R;
  load.p_filesz = load.p_memsz = file.size();
  load.p_align = 0x1000;
  put(&file, 0, ehdr);
  put(&file, sizeof ehdr, load);
  return file;
}

ElfW(Ehdr) headerOf(const std::string& file) {
  ElfW(Ehdr) ehdr;
  std::memcpy(&ehdr, file.data(), sizeof ehdr);
  return ehdr;
}

// The offset of section `index`'s header in `file`.
size_t sectionHeader(const std::string& file, unsigned index) {
  return headerOf(file).e_shoff + index * sizeof(ElfW(Shdr));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<std::pair<std::string, std::string>> seeds;
  const Section meta{".graft_meta", SHT_PROGBITS, kMeta + '\0'};
  const Section text{".text", SHT_PROGBITS, std::string(16, '\xc3')};
  const std::string valid = sharedObject({text, meta});
  seeds.emplace_back("valid", valid);
  seeds.emplace_back("valid_no_down_no_digest",
                     sharedObject({{".graft_meta", SHT_PROGBITS,
                                    R"({"graft_meta":1,"id":"m.1","abi":"1.0","logic_digest":"",)"
                                    R"("description":"","has_down":false})"}}));
  seeds.emplace_back("no_meta_section", sharedObject({text}));
  seeds.emplace_back("no_section_headers", sharedObject({text, meta}, false));
  seeds.emplace_back("twice", sharedObject({meta, text, meta}));
  seeds.emplace_back("nobits", sharedObject({{".graft_meta", SHT_NOBITS, kMeta}}));
  seeds.emplace_back("bad_json",
                     sharedObject({{".graft_meta", SHT_PROGBITS, R"({"graft_meta" 1,})"}}));
  seeds.emplace_back("newer_format",
                     sharedObject({{".graft_meta", SHT_PROGBITS, R"({"graft_meta":2})"}}));
  seeds.emplace_back("bad_id", sharedObject({{".graft_meta", SHT_PROGBITS,
                                              R"({"graft_meta":1,"id":"a b","abi":"1.2",)"
                                              R"("logic_digest":"","description":"",)"
                                              R"("has_down":true})"}}));
  // Cut inside the section header table, then inside the section itself
  // (where the section header table is gone too).
  seeds.emplace_back("truncated_headers", valid.substr(0, valid.size() - 20));
  seeds.emplace_back("truncated_section", valid.substr(0, sizeof(ElfW(Ehdr)) + 100));

  std::string outside = valid;
  put<ElfW(Off)>(&outside, sectionHeader(valid, 2) + offsetof(ElfW(Shdr), sh_offset),
                 valid.size() - 10);
  seeds.emplace_back("section_outside", outside);
  std::string wraps = valid;
  put<ElfW(Xword)>(&wraps, sectionHeader(valid, 2) + offsetof(ElfW(Shdr), sh_size),
                   ~ElfW(Xword){0} - 4);
  seeds.emplace_back("section_size_wraps", wraps);
  std::string bad_name = valid;
  put<ElfW(Word)>(&bad_name, sectionHeader(valid, 2) + offsetof(ElfW(Shdr), sh_name), 0xffffff);
  seeds.emplace_back("name_outside_name_table", bad_name);
  std::string names_outside = valid;
  put<ElfW(Off)>(&names_outside, sectionHeader(valid, 3) + offsetof(ElfW(Shdr), sh_offset),
                 valid.size());
  seeds.emplace_back("name_table_outside", names_outside);
  std::string bad_index = valid;
  put<ElfW(Half)>(&bad_index, offsetof(ElfW(Ehdr), e_shstrndx), 9);
  seeds.emplace_back("bad_name_table_index", bad_index);
  std::string bad_entsize = valid;
  put<ElfW(Half)>(&bad_entsize, offsetof(ElfW(Ehdr), e_shentsize), 40);
  seeds.emplace_back("bad_section_header_size", bad_entsize);
  std::string table_outside = valid;
  put<ElfW(Half)>(&table_outside, offsetof(ElfW(Ehdr), e_shnum), 0xff00);
  seeds.emplace_back("section_table_outside", table_outside);
  std::string load_outside = valid;
  put<ElfW(Xword)>(&load_outside, sizeof(ElfW(Ehdr)) + offsetof(ElfW(Phdr), p_filesz),
                   valid.size() + 1);
  seeds.emplace_back("load_segment_outside", load_outside);
  std::string relocatable = valid;
  put<ElfW(Half)>(&relocatable, offsetof(ElfW(Ehdr), e_type), ET_REL);
  seeds.emplace_back("relocatable", relocatable);
  std::string elf32 = valid;
  elf32[EI_CLASS] = ELFCLASS32;
  seeds.emplace_back("elf32", elf32);

  // Text alone: parsePluginMeta.
  seeds.emplace_back("text_valid", kMeta);
  seeds.emplace_back("text_not_object", "[1]");
  seeds.emplace_back("text_nul_terminated", kMeta + std::string("\0\0garbage", 9));

  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << bytes;
    if (!out) {
      std::perror((dir + "/" + name).c_str());
      return 1;
    }
  }
  return 0;
}
