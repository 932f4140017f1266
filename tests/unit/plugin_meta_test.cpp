// The .graft_meta reader: real plugins as graft_add_migration builds them,
// then copies of their bytes cut short or edited the way a hostile or broken
// file would be. Messages verbatim.
#include "plugins/plugin_meta.h"

#include <elf.h>
#include <link.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "plugins/elf_check.h"
#include "harness.h"
#include "plugins/plugin.h"

namespace graft {
namespace {

using test::ScratchDir;
using test::testPlugin;
using test::readBytes;

const std::string kRebuild = " (build the plugin again with graft_add_migration)";

// Where the metadata text starts in a plugin's bytes, found by its content,
// and the index of the section header that points there: the test does not
// trust the reader it tests to find them.
struct Located {
  size_t text = 0;
  size_t header = 0;  // offset of the ElfW(Shdr) in the file
};
Located locate(const std::string& bytes) {
  Located at;
  at.text = bytes.find("{\"graft_meta\":1,");
  BOOST_REQUIRE(at.text != std::string::npos);
  ElfW(Ehdr) ehdr;
  std::memcpy(&ehdr, bytes.data(), sizeof ehdr);
  for (unsigned i = 0; i < ehdr.e_shnum; ++i) {
    ElfW(Shdr) shdr;
    const size_t offset = ehdr.e_shoff + i * sizeof shdr;
    std::memcpy(&shdr, bytes.data() + offset, sizeof shdr);
    if (shdr.sh_offset == at.text) at.header = offset;
  }
  BOOST_REQUIRE(at.header != 0);
  return at;
}

template <class T>
void put(std::string* bytes, size_t offset, T value) {
  std::memcpy(bytes->data() + offset, &value, sizeof value);
}

std::string message(const Result<std::optional<PluginMeta>>& meta) {
  BOOST_REQUIRE(!meta.ok());
  BOOST_TEST(meta.status().code() == Code::kPlugin);
  return meta.status().message();
}

BOOST_AUTO_TEST_SUITE(plugin_meta)

BOOST_AUTO_TEST_CASE(reads_what_graft_add_migration_embedded) {
  auto meta = readPluginMeta(readBytes(testPlugin("counter")));
  BOOST_REQUIRE_MESSAGE(meta.ok(), meta.status().message());
  BOOST_REQUIRE(meta->has_value());
  const PluginMeta& m = **meta;
  BOOST_TEST(m.id == "test_counter");
  BOOST_TEST(m.abi == std::to_string(GRAFT_ABI_MAJOR) + "." + std::to_string(GRAFT_ABI_MINOR));
  BOOST_TEST(m.description == "n += 1 on every item");
  BOOST_TEST(m.has_down);
  // The same digest the entry point returns.
  auto loaded = Plugin::load(testPlugin("counter"));
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST(m.logic_digest == (*loaded)->logicDigest());

  auto no_down = readPluginMeta(readBytes(testPlugin("fail_at")));
  BOOST_REQUIRE(no_down.ok());
  BOOST_REQUIRE(no_down->has_value());
  BOOST_TEST(!(*no_down)->has_down);
  BOOST_TEST((*no_down)->description == "done = true, failing at k = $GRAFT_TEST_FAIL_AT");
  // An escaped quote in the source's literal is a quote in the metadata.
  auto quoted = readPluginMeta(readBytes(testPlugin("write_normal")));
  BOOST_REQUIRE(quoted.ok());
  BOOST_REQUIRE(quoted->has_value());
  BOOST_TEST((*quoted)->description == "n = \"oops\"");
  BOOST_TEST((*quoted)->id == "test_write_normal");
}

BOOST_AUTO_TEST_CASE(a_plugin_built_without_graft_add_migration_has_none) {
  auto meta = readPluginMeta(readBytes(testPlugin("counter_undigested")));
  BOOST_REQUIRE_MESSAGE(meta.ok(), meta.status().message());
  BOOST_TEST(!meta->has_value());
}

BOOST_AUTO_TEST_CASE(refuses_headers_and_sections_outside_the_file) {
  const std::string lib = readBytes(testPlugin("counter"));
  const Located at = locate(lib);
  ElfW(Ehdr) ehdr;
  std::memcpy(&ehdr, lib.data(), sizeof ehdr);
  const std::string size = std::to_string(lib.size());
  const std::string table_end =
      std::to_string(ehdr.e_shoff + 1ULL * ehdr.e_shnum * sizeof(ElfW(Shdr)));

  // Cut short: the section header table, at the end, is gone.
  BOOST_TEST(message(readPluginMeta(lib.substr(0, 1000))) ==
             "the section header table at bytes " + std::to_string(ehdr.e_shoff) + ".." +
                 table_end +
                 " lies outside the file, which has 1000 bytes (copy or build the "
                 "plugin again)");

  // The section's offset points past the end of the file.
  std::string past_end = lib;
  put<ElfW(Off)>(&past_end, at.header + offsetof(ElfW(Shdr), sh_offset), lib.size() - 10);
  ElfW(Shdr) shdr;
  std::memcpy(&shdr, lib.data() + at.header, sizeof shdr);
  BOOST_TEST(message(readPluginMeta(past_end)) ==
             "section .graft_meta at bytes " + std::to_string(lib.size() - 10) + ".." +
                 std::to_string(lib.size() - 10 + shdr.sh_size) +
                 " lies outside the file, which has " + size +
                 " bytes (copy or build the plugin again)");

  // A size that would wrap around: offset + size overflows.
  std::string huge = lib;
  put<ElfW(Xword)>(&huge, at.header + offsetof(ElfW(Shdr), sh_size), ~ElfW(Xword){0} - 4);
  BOOST_TEST(message(readPluginMeta(huge)) ==
             "section .graft_meta at bytes " + std::to_string(at.text) + ".." +
                 std::to_string(~0ULL) + " lies outside the file, which has " + size +
                 " bytes (copy or build the plugin again)");

  // The section name table index names no section.
  std::string bad_index = lib;
  put<ElfW(Half)>(&bad_index, offsetof(ElfW(Ehdr), e_shstrndx), ehdr.e_shnum + 3);
  BOOST_TEST(message(readPluginMeta(bad_index)) ==
             "the section name table is section " + std::to_string(ehdr.e_shnum + 3) +
                 ", and there are " + std::to_string(ehdr.e_shnum) +
                 " (copy or build the plugin again)");

  // Inside the plugin's stages, the new stage is named, and the library is
  // never loaded.
  ScratchDir dir;
  test::writeFile(dir / "past_end.so", past_end);
  auto plugin = Plugin::load(dir / "past_end.so");
  BOOST_REQUIRE(!plugin.ok());
  BOOST_TEST(plugin.status().message() ==
             "plugin " + dir / "past_end.so" +
                 ": embedded metadata: " + message(readPluginMeta(past_end)));
}

BOOST_AUTO_TEST_CASE(refuses_malformed_metadata_in_the_file) {
  const std::string lib = readBytes(testPlugin("counter"));
  const Located at = locate(lib);
  std::string broken = lib;
  // Same length, so that nothing else in the file moves.
  const std::string text = "{\"graft_meta\":1,";
  broken.replace(at.text, text.size(), "{\"graft_meta\" 1,");
  BOOST_TEST(message(readPluginMeta(broken)) ==
             "section .graft_meta:1:15: syntax error" + kRebuild);
}

BOOST_AUTO_TEST_CASE(refuses_each_malformed_field_verbatim) {
  const std::string ok_fields =
      R"("id":"m1","abi":"1.2","logic_digest":"v1:sha256:ab","description":"d","has_down":true)";
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {"", "section .graft_meta is empty" + kRebuild},
      {std::string("\0{}", 3), "section .graft_meta is empty" + kRebuild},
      {"[1]", "section .graft_meta is not a JSON object" + kRebuild},
      {"{" + ok_fields + "}",
       "section .graft_meta: missing \"graft_meta\": 1 (the metadata format version)" + kRebuild},
      {R"({"graft_meta":"1",)" + ok_fields + "}",
       "section .graft_meta: missing \"graft_meta\": 1 (the metadata format version)" + kRebuild},
      {R"({"graft_meta":2,)" + ok_fields + "}",
       "section .graft_meta: format version 2 is newer than this graft reads (upgrade graft)"},
      {R"({"graft_meta":1,"abi":"1.2","logic_digest":"","description":"","has_down":true})",
       "section .graft_meta: \"id\" is missing or not a string" + kRebuild},
      {R"({"graft_meta":1,"id":"a b","abi":"1.2","logic_digest":"","description":"","has_down":true})",
       "section .graft_meta: id \"a b\" is not valid (letters, digits, '_', '-', '.'; at most "
       "128)" +
           kRebuild},
      // Quoted as JSON: a newline or a tab from the file can not split or
      // disguise the one line of the message.
      {R"({"graft_meta":1,"id":"a\nb","abi":"1.2","logic_digest":"","description":"",)"
       R"("has_down":true})",
       R"(section .graft_meta: id "a\nb" is not valid (letters, digits, '_', '-', '.'; at most )"
       "128)" +
           kRebuild},
      {R"({"graft_meta":1,"id":"m1","abi":"1","logic_digest":"","description":"","has_down":true})",
       "section .graft_meta: abi \"1\" is not <major>.<minor>" + kRebuild},
      {R"({"graft_meta":1,"id":"m1","abi":"1.\t2","logic_digest":"","description":"",)"
       R"("has_down":true})",
       R"(section .graft_meta: abi "1.\t2" is not <major>.<minor>)" + kRebuild},
      {R"({"graft_meta":1,"id":"m1","abi":"1.2","logic_digest":7,"description":"","has_down":true})",
       "section .graft_meta: \"logic_digest\" is missing or not a string" + kRebuild},
      {R"({"graft_meta":1,"id":"m1","abi":"1.2","logic_digest":"","description":"","has_down":1})",
       "section .graft_meta: \"has_down\" is missing or not true or false" + kRebuild},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      auto meta = parsePluginMeta(c.text);
      BOOST_REQUIRE(!meta.ok());
      BOOST_TEST(meta.status().code() == Code::kPlugin);
      BOOST_TEST(meta.status().message() == c.message);
    }
  }
  // Trailing NULs (the C string's terminator) are not part of the text.
  auto ok =
      parsePluginMeta(std::string("{\"graft_meta\":1,") + ok_fields + std::string("}\0\0", 3));
  BOOST_REQUIRE_MESSAGE(ok.ok(), ok.status().message());
  BOOST_TEST(ok->id == "m1");
}

BOOST_AUTO_TEST_CASE(compare_names_every_difference_and_its_fix) {
  const PluginMeta embedded{"m1", "1.2", "v1:sha256:aa", "one", true};
  BOOST_TEST(compareMeta(embedded, embedded) == "");
  // What the entry point returned is the plugin's text: escaped, so that it
  // can not break the message's one line.
  PluginMeta odd = embedded;
  odd.description = "two\nlines";
  odd.logic_digest = "v1:\"x\"\n";
  BOOST_TEST(compareMeta(embedded, odd) ==
             "logic digest v1:sha256:aa embedded, \"v1:\\\"x\\\"\\n\" returned (build the plugin "
             "again with graft_add_migration); description \"one\" embedded, \"two\\nlines\" "
             "returned (write .description as one string literal at the start of its line)");
  PluginMeta returned{"m2", "1.1", "", "two", false};
  BOOST_TEST(compareMeta(embedded, returned) ==
             "ABI 1.2 embedded, 1.1 returned (build the plugin again with graft_add_migration); "
             "id \"m1\" embedded, \"m2\" returned (graft_add_migration's target name is the id: "
             "name the target after .id); logic digest v1:sha256:aa embedded, none returned "
             "(build the plugin again with graft_add_migration); description \"one\" embedded, "
             "\"two\" returned (write .description as one string literal at the start of its "
             "line); down step present embedded, absent returned (start the line that sets the "
             "down step with .down =)");
}

// Reading the metadata runs nothing: the marker plugin's constructor writes a
// file when (and only when) the library is loaded.
BOOST_AUTO_TEST_CASE(inspecting_a_plugin_runs_none_of_its_code) {
  ScratchDir dir;
  const std::string marker = dir / "marker";
  setenv("GRAFT_TEST_MARKER", marker.c_str(), 1);
  auto inspected = Plugin::inspect(testPlugin("marker"), {});
  BOOST_REQUIRE_MESSAGE(inspected.ok(), inspected.status().message());
  BOOST_TEST(!(*inspected)->loaded());
  BOOST_TEST((*inspected)->metadataEmbedded());
  BOOST_TEST((*inspected)->id() == "test_marker");
  BOOST_TEST((*inspected)->description() == "n += 1, and a constructor that leaves a marker file");
  BOOST_TEST(!(*inspected)->hasDown());
  BOOST_TEST(!std::filesystem::exists(marker));
  auto loaded = Plugin::load(testPlugin("marker"));
  unsetenv("GRAFT_TEST_MARKER");
  BOOST_REQUIRE_MESSAGE(loaded.ok(), loaded.status().message());
  BOOST_TEST(std::filesystem::exists(marker));
  BOOST_TEST((*loaded)->logicDigest() == (*inspected)->logicDigest());
  BOOST_TEST((*loaded)->fileSha256() == (*inspected)->fileSha256());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace graft
